import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Observable } from 'rxjs';

/** Codes and proofs must never sit in a cache: every OTP answer carries `Cache-Control: no-store`. */
@Injectable()
export class NoStoreInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse();
    this.adapterHost.httpAdapter.setHeader(response, 'Cache-Control', 'no-store');
    this.adapterHost.httpAdapter.setHeader(response, 'Pragma', 'no-cache');
    return next.handle();
  }
}
