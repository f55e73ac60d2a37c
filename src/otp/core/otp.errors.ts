/**
 * Stable error codes of the OTP module. HTTP status, body and headers are chosen
 * only at the edge, by `otpErrorToHttp` (`otp-error.http.ts`); messages never
 * reveal whether an address or a challenge exists.
 */
export type OtpErrorCode =
  | 'otp.invalid'
  | 'otp.throttled'
  | 'otp.purpose_unknown'
  | 'otp.context_invalid'
  | 'otp.email_invalid'
  | 'otp.config_invalid'
  | 'otp.required'
  | 'otp.unavailable'
  /** A query string on an OTP route (`RejectQueryGuard`). */
  | 'otp.query_not_allowed'
  /** A body not declared `application/json` (`JsonBodyGuard`). */
  | 'otp.unsupported_media_type'
  /** An operator route without the right bearer token (`OtpAdminGuard`). */
  | 'otp.operator_unauthorized'
  /** An operator route while no operator token is configured: the route does not exist. */
  | 'otp.not_found';

const PUBLIC_MESSAGES: Record<OtpErrorCode, string> = {
  'otp.invalid': 'The code is invalid or has expired. Request a new code.',
  'otp.throttled': 'Too many requests. Try again later.',
  'otp.purpose_unknown': 'This purpose is not accepted.',
  'otp.context_invalid': 'The context does not fit this purpose.',
  'otp.email_invalid': 'The email address is not accepted.',
  'otp.config_invalid': 'The OTP module is misconfigured.',
  'otp.required': 'This action needs a valid one-time-passcode token. Verify a new code for it.',
  'otp.unavailable': 'The service is temporarily unavailable. Try again shortly.',
  'otp.query_not_allowed': 'Send parameters in the JSON body, never in the URL.',
  'otp.unsupported_media_type': 'Send the request body as application/json.',
  'otp.operator_unauthorized': 'A valid operator token is required.',
  'otp.not_found': 'Not found.',
};

/** Base class of every error the OTP module throws on purpose. */
export class OtpError extends Error {
  constructor(
    readonly code: OtpErrorCode,
    message: string = PUBLIC_MESSAGES[code],
    /** Seconds until a retry can succeed (only for `otp.throttled`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'OtpError';
  }

  /** The message safe to show a client, whatever detail `message` carries. */
  get publicMessage(): string {
    return PUBLIC_MESSAGES[this.code];
  }
}

/** Wrong, expired, superseded, consumed, unknown or wrong-context: all look the same. */
export class OtpInvalidError extends OtpError {
  constructor() {
    super('otp.invalid');
  }
}

export class OtpThrottledError extends OtpError {
  constructor(retryAfterSeconds: number) {
    super('otp.throttled', undefined, Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class OtpPurposeUnknownError extends OtpError {
  constructor() {
    super('otp.purpose_unknown');
  }
}

export class OtpContextInvalidError extends OtpError {
  constructor(detail: string) {
    super('otp.context_invalid', detail);
  }
}

/**
 * `OtpGuard` could not read, from the request, the context a route's token must approve: the
 * client sent no context of its own, so the message names what the request lacks.
 */
export class OtpRequestContextInvalidError extends OtpContextInvalidError {
  constructor() {
    super('the route context could not be read from the request');
  }

  override get publicMessage(): string {
    return 'The request does not carry the details this action must approve.';
  }
}

/**
 * An address with no one mailbox the transport would deliver it to (a quoted local part that is
 * not a dot-atom, a control, zero-width or other default-ignorable character, an invalid domain):
 * it cannot be canonicalised, so it is refused rather than given an identity of its own.
 */
export class OtpEmailInvalidError extends OtpError {
  constructor() {
    super('otp.email_invalid');
  }
}

/** A dependency the module must not run without (the rate-limit store) cannot answer: fail closed. */
export class OtpUnavailableError extends OtpError {
  constructor(retryAfterSeconds = 5) {
    super('otp.unavailable', undefined, retryAfterSeconds);
  }
}

/** Thrown at start-up when the options cannot give a secure configuration. */
export class OtpConfigError extends OtpError {
  constructor(detail: string) {
    super('otp.config_invalid', detail);
  }
}

/** A proof token that is missing, unknown, expired, already used, or for another purpose, context or user. */
export class OtpRequiredError extends OtpError {
  constructor(detail = 'otp token refused') {
    super('otp.required', detail);
  }
}
