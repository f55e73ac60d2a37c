import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** Who is signing in, as the new-device notice needs it. */
export interface SignInClient {
  /** Client IP as `TRUST_PROXY` resolves it. */
  ip?: string;
  userAgent?: string;
  /** First language of `Accept-Language` (the OTP module checks its shape). */
  locale?: string;
}

interface ClientRequest {
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/** The first tag of an `Accept-Language` header (`pt-BR,pt;q=0.9` -> `pt-BR`); none for `*`. */
export function preferredLocale(header: string | string[] | undefined): string | undefined {
  const first = typeof header === 'string' ? header.split(',')[0].split(';')[0].trim() : '';
  return first && first !== '*' ? first : undefined;
}

/** Injects the `SignInClient` of the request (Express and Fastify alike). */
export const SignInClientOf = createParamDecorator((_data: unknown, ctx: ExecutionContext): SignInClient => {
  const req = ctx.switchToHttp().getRequest<ClientRequest>();
  const ua = req.headers?.['user-agent'];
  return {
    ip: typeof req.ip === 'string' ? req.ip : undefined,
    userAgent: typeof ua === 'string' ? ua : undefined,
    locale: preferredLocale(req.headers?.['accept-language']),
  };
});
