import { ArgumentMetadata, HttpException } from '@nestjs/common';
import { BodyDepthPipe } from '../http-kit/body-depth.pipe';
import { otpValidationPipe } from '../http-kit/otp-validation.pipe';
import { OtpBodyPipe } from './otp-body.pipe';
import { IssueChallengeDto, VerifyChallengeDto } from './otp.dto';

type Outcome = { ok: true; value: unknown; ctor: unknown } | { ok: false; status: number; body: unknown };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    const value = await run();
    return { ok: true, value, ctor: (value as object | null)?.constructor };
  } catch (err) {
    if (!(err instanceof HttpException)) throw err;
    return { ok: false, status: err.getStatus(), body: err.getResponse() };
  }
}

/** What the routes did before: `@UsePipes(new BodyDepthPipe(), otpValidationPipe)`. */
const reference = async (value: unknown, meta: ArgumentMetadata) => otpValidationPipe.transform(new BodyDepthPipe().transform(value, meta), meta);

const issueBodies = [
  '{"email":"you@example.com"}',
  '{"email":"You@Example.COM","purpose":"login","locale":"pt-BR"}',
  '{"email":"a.b+tag@example.org","context":{"amount":125.5,"to":"alice"}}',
  '{"email":"you@example.com","purpose":null}',
  '{"email":"you@example.com","locale":null,"context":null}',
  '{"email":"you@example.com","extra":1}',
  '{"email":"not an address"}',
  '{"email":"\\"quoted\\"@example.com"}',
  '{"email":"you@[127.0.0.1]"}',
  '{"email":"Name <you@example.com>"}',
  '{"email":"ｙou@example.com"}',
  `{"email":"${'a'.repeat(250)}@example.com"}`,
  '{"email":42}',
  '{}',
  '[]',
  'null',
  '"text"',
  '{"email":"you@example.com","purpose":"Login"}',
  '{"email":"you@example.com","purpose":7}',
  '{"email":"you@example.com","locale":"english please"}',
  `{"email":"you@example.com","locale":"${'ab-'.repeat(12)}cd"}`,
  '{"email":"you@example.com","context":{}}',
  '{"email":"you@example.com","context":[1]}',
  '{"email":"you@example.com","context":{"a":{"b":1}}}',
  '{"email":"you@example.com","context":"x"}',
  '{"email":"you@example.com","constructor":{"name":"x"}}',
  '{"email":"you@example.com","__proto__":{"admin":true}}',
  '{"email":"you@example.com","context":{"s":"\\ud800"}}',
];

const verifyBodies = [
  '{"code":"123456"}',
  '{"code":"1234567890","context":{"amount":1,"to":"bob","ok":true}}',
  '{"code":"12345"}',
  '{"code":"12345678901"}',
  '{"code":123456}',
  '{"code":""}',
  '{"code":"12a456"}',
  '{"code":"123456","context":null}',
  '{"code":"123456","extra":true}',
  '{"context":{"a":1}}',
  '{}',
  'null',
  '{"code":"123456","context":{"k":[1,2]}}',
];

const cases: [string, ArgumentMetadata, string[]][] = [
  ['issue', { type: 'body', metatype: IssueChallengeDto, data: undefined }, issueBodies],
  ['verify', { type: 'body', metatype: VerifyChallengeDto, data: undefined }, verifyBodies],
];

describe('OtpBodyPipe', () => {
  for (const [route, meta, bodies] of cases) {
    it.each(bodies)(`answers a ${route} body as BodyDepthPipe + ValidationPipe do: %s`, async (text) => {
      const ours = await outcome(() => new OtpBodyPipe().transform(JSON.parse(text), meta));
      const theirs = await outcome(() => reference(JSON.parse(text), meta));
      expect(ours).toEqual(theirs);
    });
  }

  it('takes the fast path for well-formed bodies, without ValidationPipe, and copies the context', async () => {
    const spy = jest.spyOn(otpValidationPipe, 'transform');
    try {
      const body = { email: 'you@example.com', context: { amount: 1 } };
      const dto = (await new OtpBodyPipe().transform(body, cases[0][1])) as IssueChallengeDto;
      await new OtpBodyPipe().transform({ code: '123456' }, cases[1][1]);
      expect(spy).not.toHaveBeenCalled();
      expect(dto).toBeInstanceOf(IssueChallengeDto);
      expect(dto.context).toEqual({ amount: 1 });
      expect(dto.context).not.toBe(body.context);
      await Promise.resolve(new OtpBodyPipe().transform({ code: '12' }, cases[1][1])).catch(() => undefined);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('passes other parameters to ValidationPipe as before', async () => {
    const meta: ArgumentMetadata = { type: 'param', metatype: String, data: 'id' };
    expect(await new OtpBodyPipe().transform('ABC', meta)).toEqual(await reference('ABC', meta));
    const empty: ArgumentMetadata = { type: 'body', metatype: Object, data: undefined };
    expect(await outcome(() => new OtpBodyPipe().transform({ a: 1 }, empty))).toEqual(await outcome(() => reference({ a: 1 }, empty)));
  });
});
