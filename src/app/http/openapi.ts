import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { OTP_TOKEN_SCHEME, SESSION_SCHEME } from './openapi-responses';

/** Where the Swagger UI is served; the JSON document is at `/docs-json`. */
export const OPENAPI_PATH = 'docs';

/** The OpenAPI document of every route the app registers. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nestjs-email-otp example app')
    .setDescription('Email one-time codes. Errors are `{ "error", "message" }`; rate-limited routes answer 429 with Retry-After.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The `sessionToken` of POST /accounts/sessions' }, SESSION_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-OTP-Token', description: 'The `token` of POST /auth/otp/challenges/{id}/verify (single use)' }, OTP_TOKEN_SCHEME)
    .addGlobalResponse({ status: 500, description: 'Unexpected error: `{ "error": "internal_error", "message" }`' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at `/docs`, the document at `/docs-json`. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_PATH, app, () => buildOpenApiDocument(app), { jsonDocumentUrl: `${OPENAPI_PATH}-json`, yamlDocumentUrl: `${OPENAPI_PATH}-yaml` });
}
