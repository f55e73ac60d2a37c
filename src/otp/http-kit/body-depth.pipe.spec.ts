import { BadRequestException } from '@nestjs/common';
import { BodyDepthPipe } from './body-depth.pipe';

describe('BodyDepthPipe', () => {
  const pipe = new BodyDepthPipe();

  it('passes the bodies the OTP routes take', () => {
    const body = { email: 'a@example.com', context: { amount: 5, to: 'bob' } };
    expect(pipe.transform(body)).toBe(body);
    expect(pipe.transform(undefined)).toBeUndefined();
  });

  it('refuses 5,000 nested arrays with a 400 instead of overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(5000) + ']'.repeat(5000));
    expect(() => pipe.transform(deep)).toThrow(BadRequestException);
  });

  it('refuses an own constructor key at any depth and a lone surrogate in any key or string, with the validation shape', () => {
    for (const body of ['{"constructor":1}', '{"context":{"prototype":{}}}', '{"a":{"b":{"__proto__":1}}}', '{"email":"a\\ud800@example.com"}', '{"context":{"k\\udfff":1}}', '["\\udc00"]']) {
      let thrown: unknown;
      try {
        pipe.transform(JSON.parse(body));
      } catch (err) {
        thrown = err;
      }
      expect({ body, response: (thrown as BadRequestException)?.getResponse?.() }).toEqual({ body, response: { error: 'validation_failed', message: expect.any(String), details: [expect.any(String)] } });
    }
    // A surrogate pair (an emoji) is well-formed.
    expect(pipe.transform({ email: '\u{1F600}@example.com' })).toEqual({ email: '\u{1F600}@example.com' });
  });

  it('refuses a JSON null body (as Express does), but passes an absent one', () => {
    expect(() => pipe.transform(null, { type: 'body' })).toThrow(BadRequestException);
    expect(pipe.transform(undefined, { type: 'body' })).toBeUndefined();
  });
});
