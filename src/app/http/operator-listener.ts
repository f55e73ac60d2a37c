import { createServer as createHttpServer, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { CanActivate, ExecutionContext, INestApplication, NotFoundException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OTP_OPERATOR_ROUTE } from 'nestjs-email-otp';
import { HttpSettings, tlsServerOptions } from './http-settings';
import { OPENAPI_PATH } from './openapi';

/** Requests that arrived on an operator listener (the raw Node request, as both adapters keep it). */
const OPERATOR_REQUESTS = new WeakSet<IncomingMessage>();
const OPERATOR_SERVERS = new WeakMap<INestApplication, Server>();

/**
 * With `OPERATOR_PORT` set, the operator routes (`@OtpOperatorRoute()`: /metrics,
 * /admin/otp/audit/*, and the console's routes under /admin, which carry the same metadata) answer only on the operator listener and every other route
 * only on the public one; the wrong listener gets the ordinary 404. It decides
 * after routing, on the matched handler, so no spelling of a path (case, trailing
 * slash, encoding) reaches an operator route from the public port. It runs before
 * the operator throttler and token check, so the public port says nothing about them.
 */
export class OperatorListenerGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<IncomingMessage & { raw?: IncomingMessage }>();
    const onOperatorListener = OPERATOR_REQUESTS.has(req.raw ?? req);
    const operatorRoute = this.reflector.getAllAndOverride<boolean | undefined>(OTP_OPERATOR_ROUTE, [context.getHandler(), context.getClass()]) === true;
    if (operatorRoute !== onOperatorListener) throw new NotFoundException({ error: 'not_found', message: 'Not found.' });
    return true;
  }
}

/**
 * Whether a request is for Swagger (`/docs`, `/docs/*`, `/docs-json`, `/docs-yaml`), however
 * spelled (case, percent-encoding, repeated slashes). Swagger's routes are registered on the
 * framework directly, past Nest's guards: the operator listener refuses them before routing.
 */
export function isOpenApiRequest(url: string | undefined): boolean {
  let path = (url ?? '/').split(/[?#]/, 1)[0];
  try {
    path = decodeURIComponent(path);
  } catch {
    // left encoded: compared as sent
  }
  return path.replace(/[/\\]+/g, '/').toLowerCase().startsWith(`/${OPENAPI_PATH}`);
}

const NOT_FOUND_BODY = JSON.stringify({ error: 'not_found', message: 'Not found.' });

/** The Node request handler of the app's HTTP framework (Express app, or Fastify's router). */
function requestHandlerOf(app: INestApplication, http: HttpSettings): RequestListener {
  const instance = app.getHttpAdapter().getInstance() as RequestListener & { routing?: RequestListener };
  if (http.adapter === 'fastify') return (req, res) => instance.routing!(req, res);
  return instance;
}

/**
 * Starts the operator listener of an app that already listens: a second Node server
 * (HTTPS with the app's certificate when it has one) handing its requests to the
 * same framework instance, so both listeners share every provider. It closes with
 * the app's own server.
 */
export async function listenOperator(app: INestApplication, http: HttpSettings): Promise<Server | undefined> {
  if (!http.operator) return undefined;
  const handler = requestHandlerOf(app, http);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    OPERATOR_REQUESTS.add(req);
    // The operator listener serves the operator routes only; Nest's routes are held to that by
    // OperatorListenerGuard, Swagger's (raw framework routes) here.
    if (isOpenApiRequest(req.url)) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(NOT_FOUND_BODY);
      return;
    }
    handler(req, res);
  };
  const server = http.tls ? createHttpsServer(tlsServerOptions(http.tls), onRequest) : createHttpServer(onRequest);
  const { port, host } = http.operator;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  (app.getHttpServer() as Server).once('close', () => {
    server.close();
    server.closeAllConnections();
  });
  OPERATOR_SERVERS.set(app, server);
  return server;
}

/** The operator listener of an app, when `OPERATOR_PORT` started one. */
export function operatorServerOf(app: INestApplication): Server | undefined {
  return OPERATOR_SERVERS.get(app);
}
