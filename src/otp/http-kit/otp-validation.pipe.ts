import { ValidationPipe } from '@nestjs/common';

/** The body validation every OTP and operator route shares: unknown fields are refused, values never echoed. */
export const otpValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
});
