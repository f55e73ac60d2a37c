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
});
