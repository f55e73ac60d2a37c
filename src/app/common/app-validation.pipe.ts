import { ValidationPipe } from '@nestjs/common';

/** Bodies of the example app: declared fields only, unknown fields refused (400). */
export const appValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
});
