import { Controller, Get, Headers, Inject, NotFoundException, Param, Req, Res, UseFilters, UseInterceptors } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { NoStoreInterceptor } from '../http-kit/no-store.interceptor';
import { OtpExceptionFilter } from '../http-kit/otp-exception.filter';
import { DevMailboxMailer } from './dev-mailbox.mailer';
import type { ResolvedOtpMailOptions } from './mail-options';
import { MAIL_PART_CSP, MAILBOX_PAGE_CSP, prefersHtml, renderMailboxPage } from './dev-mailbox.page';
import { OtpMailer } from './otp-mailer.port';
import { ClientRequestLike, isAddressedLocally, isLocalClient } from '../net/local-client';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LANG = /^[a-z]{2,3}(-[a-z0-9]{2,8}){0,3}$/;

/**
 * `GET /dev/mailbox`: the development mailbox, newest first: JSON, or a page for a
 * browser (`Accept: text/html`) whose mails open as their recipients see them
 * (`/dev/mailbox/:id/:lang/html` and `/text`). Answers 404 in production, when real
 * delivery is configured, and to any client that is not on this machine (the client
 * address as the trusted-proxy settings resolve it; a request with forwarding headers
 * only when that setting resolves it to loopback): a staging host started without
 * NODE_ENV=production must not hand out codes. Also 404 unless `Host` is `localhost`,
 * a loopback address or the `APP_URL` host (any port), so a web page on a rebound
 * name cannot read the codes through the developer's browser.
 */
@Controller('dev/mailbox')
@UseFilters(OtpExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class DevMailboxController {
  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { production: boolean; mail: Pick<ResolvedOtpMailOptions, 'appUrl'> },
    private readonly mailer: OtpMailer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  list(
    @Req() req: ClientRequestLike,
    @Res({ passthrough: true }) res: unknown,
    @Headers('accept') accept?: string,
    @Headers('accept-language') acceptLanguage?: string,
  ): unknown[] | string {
    const mailbox = this.mailbox(req);
    this.header(res, 'Vary', 'Accept, Accept-Language');
    if (prefersHtml(accept)) return this.send(res, 'text/html; charset=utf-8', MAILBOX_PAGE_CSP, renderMailboxPage(mailbox, acceptLanguage));
    return mailbox.list().map((m) => ({
      challengeId: m.challengeId,
      to: m.to,
      purpose: m.purpose,
      code: m.code,
      locale: m.locale ?? null,
      context: m.context ?? null,
      expiresAt: m.expiresAt.toISOString(),
      receivedAt: m.receivedAt.toISOString(),
    }));
  }

  /** One mail's HTML or text part in one language, as the recipient gets it. */
  @Get(':id/:lang/:part')
  part(@Req() req: ClientRequestLike, @Res({ passthrough: true }) res: unknown, @Param('id') id: string, @Param('lang') lang: string, @Param('part') part: string): string {
    const mailbox = this.mailbox(req);
    const mail = ID.test(id) && LANG.test(lang) && (part === 'html' || part === 'text') ? mailbox.render(id, lang) : undefined;
    if (!mail) throw new NotFoundException();
    return part === 'html'
      ? this.send(res, 'text/html; charset=utf-8', MAIL_PART_CSP, mail.html)
      : this.send(res, 'text/plain; charset=utf-8', MAIL_PART_CSP, mail.text);
  }

  private mailbox(req: ClientRequestLike): DevMailboxMailer {
    if (this.options.production || !(this.mailer instanceof DevMailboxMailer) || !isLocalClient(req)) throw new NotFoundException();
    if (!isAddressedLocally(req, [this.appHost])) throw new NotFoundException();
    return this.mailer;
  }

  /** The `APP_URL` host name, lower case and without IPv6 brackets. */
  private get appHost(): string {
    return this.options.mail.appUrl.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  }

  private send(res: unknown, type: string, csp: string, body: string): string {
    this.header(res, 'Content-Type', type);
    this.header(res, 'Content-Security-Policy', csp);
    this.header(res, 'X-Frame-Options', 'DENY');
    return body;
  }

  private header(res: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(res, name, value);
  }
}
