import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Errors of the example app's modules: a stable code and its HTTP status, fixed
 * here rather than where they are thrown. The body has the project-wide shape
 * `{ error, message }`, so the global `OtpExceptionFilter` passes it through.
 */
export class AppError extends HttpException {
  constructor(readonly code: string, status: HttpStatus, message: string) {
    super({ error: code, message }, status);
  }
}

export class SessionRequiredError extends AppError {
  constructor() {
    super('session_required', HttpStatus.UNAUTHORIZED, 'Sign in first: send Authorization: Bearer <sessionToken>.');
  }
}

/** Wrong password, no password set, or no such account: one answer for all. */
export class InvalidCredentialsError extends AppError {
  constructor() {
    super('invalid_credentials', HttpStatus.UNAUTHORIZED, 'The email, password or code is not valid.');
  }
}

/** R16: the account has a stronger factor, so an email code alone is not enough. */
export class PasswordRequiredError extends AppError {
  constructor() {
    super('password_required', HttpStatus.FORBIDDEN, 'This account has a password: sign in with the password and a code (POST /accounts/sessions/password).');
  }
}

export class CurrentPasswordRequiredError extends AppError {
  constructor() {
    super('current_password_required', HttpStatus.FORBIDDEN, 'Changing the password needs the current password.');
  }
}
