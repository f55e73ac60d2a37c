import { applyDecorators } from '@nestjs/common';
import { IsEmail, IsString, MaxLength, ValidateBy } from 'class-validator';
import { tryCanonicalEmail } from '../crypto/canonical';

/** An address that Unicode normalisation (NFKC) leaves unchanged: no look-alike spelling of another mailbox. */
function IsNfkcStable(): PropertyDecorator {
  return ValidateBy({
    name: 'isNfkcStable',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && value.normalize('NFKC') === value,
      defaultMessage: () => 'email must be in Unicode normal form (NFKC)',
    },
  });
}

/** An address with one canonical form (`canonicalEmail`): the mailbox the transport delivers it to. */
function IsCanonicalisable(): PropertyDecorator {
  return ValidateBy({
    name: 'isCanonicalEmail',
    validator: {
      validate: (value: unknown) => tryCanonicalEmail(value) !== undefined,
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
    MaxLength(254),
    IsEmail({ allow_display_name: false, allow_ip_domain: false, require_tld: true }),
    IsNfkcStable(),
    IsCanonicalisable(),
  );
