import { ArgumentMetadata, PipeTransform, Type } from '@nestjs/common';
import { isNotEmpty, isObject, isString, matches, maxLength } from 'class-validator';
import { isOtpContext } from '../crypto/canonical';
import { BodyDepthPipe } from '../http-kit/body-depth.pipe';
import { isOtpEmail } from '../http-kit/otp-email.validator';
import { otpValidationPipe } from '../http-kit/otp-validation.pipe';
import { CODE_PATTERN, IssueChallengeDto, LOCALE_MAX_LENGTH, LOCALE_PATTERN, PURPOSE_PATTERN, VerifyChallengeDto } from './otp.dto';

type Body = Record<string, unknown>;

/** An optional field the fast path takes: absent, or a value `check` accepts (null is left to the validator). */
const absentOr = (body: Body, key: string, check: (v: unknown) => boolean): boolean => !Object.hasOwn(body, key) || check(body[key]);
const onlyKeys = (body: Body, allowed: ReadonlySet<string>): boolean => Object.keys(body).every((k) => allowed.has(k));
const isContext = (v: unknown): boolean => isObject(v) && isOtpContext(v);

/**
 * Per DTO: the keys it declares and a check that passes only bodies its class-validator rules
 * pass (the same predicates, `isOtpEmail`, `matches` on the same patterns), never more.
 */
const FAST_RULES = new Map<Type<unknown>, { keys: ReadonlySet<string>; accepts: (body: Body) => boolean }>([
  [IssueChallengeDto, {
    keys: new Set(['email', 'purpose', 'locale', 'context']),
    accepts: (b) => isOtpEmail(b.email)
      && absentOr(b, 'purpose', (v) => isString(v) && matches(v, PURPOSE_PATTERN))
      && absentOr(b, 'locale', (v) => isString(v) && maxLength(v, LOCALE_MAX_LENGTH) && matches(v, LOCALE_PATTERN))
      && absentOr(b, 'context', isContext),
  }],
  [VerifyChallengeDto, {
    keys: new Set(['code', 'context']),
    accepts: (b) => isString(b.code) && isNotEmpty(b.code) && matches(b.code, CODE_PATTERN) && absentOr(b, 'context', isContext),
  }],
]);

/**
 * The OTP routes' body pipe: `BodyDepthPipe` then the shared `ValidationPipe`, as one pipe.
 * A well-formed issue or verify body (the common case) is checked by the DTO's own predicates
 * and copied into the DTO class as class-transformer would (the flat context copied too),
 * without class-validator's per-call metadata walk; anything the fast check does not pass,
 * and every other parameter, goes through `ValidationPipe` itself, so every refusal, message
 * and 400 body is the validator's.
 */
export class OtpBodyPipe implements PipeTransform<unknown, unknown> {
  private readonly depth = new BodyDepthPipe();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    // The route's own parameter decorators (the audit scope) carry no client input.
    if (metadata.type === 'custom') return value;
    const checked = this.depth.transform(value, metadata);
    const rule = metadata.type === 'body' && metadata.metatype ? FAST_RULES.get(metadata.metatype) : undefined;
    if (rule && isPlainObject(checked) && onlyKeys(checked, rule.keys) && rule.accepts(checked)) {
      const dto = Object.assign(new (metadata.metatype as Type<Body>)(), checked);
      if (isObject(checked.context)) dto.context = { ...checked.context };
      return dto;
    }
    return otpValidationPipe.transform(checked, metadata);
  }
}

function isPlainObject(value: unknown): value is Body {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
