import { applyDecorators } from '@nestjs/common';
import { IsEmail, isEmail, IsString, isString, MaxLength, maxLength, ValidateBy } from 'class-validator';
import { tryCanonicalEmail } from '../crypto/canonical';

const MAX_EMAIL_LENGTH = 254;
const EMAIL_SHAPE = { allow_display_name: false, allow_ip_domain: false, require_tld: true } as const;
const isNfkcStable = (value: unknown): boolean => typeof value === 'string' && value.normalize('NFKC') === value;
const isCanonicalisable = (value: unknown): boolean => tryCanonicalEmail(value) !== undefined;

/** An address that Unicode normalisation (NFKC) leaves unchanged: no look-alike spelling of another mailbox. */
function IsNfkcStable(): PropertyDecorator {
  return ValidateBy({
    name: 'isNfkcStable',
    validator: {
      validate: isNfkcStable,
      defaultMessage: () => 'email must be in Unicode normal form (NFKC)',
    },
  });
}

/** An address with one canonical form (`canonicalEmail`): the mailbox the transport delivers it to. */
function IsCanonicalisable(): PropertyDecorator {
  return ValidateBy({
    name: 'isCanonicalEmail',
    validator: {
      validate: isCanonicalisable,
      defaultMessage: () => 'email must name one mailbox: no quoted local part other than a dot-atom, no control or invisible characters, a valid domain',
    },
  });
}

/**
 * The email field of the OTP routes, for host DTOs too: a string of at most 254
 * characters, a plain address (no display name, no IP domain), NFKC-stable, and
 * canonicalisable, so that a body the validation pipe accepts is always one the
 * service can index, limit and mail.
 */
export const IsOtpEmail = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    MaxLength(MAX_EMAIL_LENGTH),
    IsEmail(EMAIL_SHAPE),
    IsNfkcStable(),
    IsCanonicalisable(),
  );

/** True when `value` passes every check of `@IsOtpEmail()` (the same predicates, without the validator's machinery). */
export function isOtpEmail(value: unknown): value is string {
  return isString(value) && maxLength(value, MAX_EMAIL_LENGTH) && isEmail(value, EMAIL_SHAPE) && isNfkcStable(value) && isCanonicalisable(value);
}
