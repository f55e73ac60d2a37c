import { BadRequestException, Body, Controller, Delete, Get, Header, HttpCode, Inject, Post, Req, Res, UnauthorizedException, UsePipes } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiBadRequestResponse, ApiBody, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiErrorBodyDto } from '../../http/openapi-responses';
import { BodyDepthPipe, OtpEventBus } from 'nestjs-email-otp';
import { appValidationPipe } from '../../common/app-validation.pipe';
import { consoleAssets } from './console-assets';
import { consoleCookie, consoleSessionIds } from './console-cookie';
import { ConsoleSessionStore, constantTimeEqual } from './console-session.store';
import { ConsoleSignInDto } from './console.dto';
import { ApiConsole } from './console.openapi';
import { ConsoleRequest, ConsoleRoute } from './console.guards';
import { consolePage, signInPage } from './console.page';
import { CONSOLE_SETTINGS, ConsoleSettings } from './console.settings';
import { consoleLanguage } from './console.strings';

type PageRequest = ConsoleRequest & { ip?: string };

/** The token of a sign-in body (`''` when absent), or undefined when the body is not `{ token?: string }`. */
function signInToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { token, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if (token === undefined) return '';
  return typeof token === 'string' && token.length <= 1024 ? token : undefined;
}

/** `/admin`: the console page (or its sign-in form) and the session routes. */
@Controller('admin')
@UsePipes(new BodyDepthPipe(), appValidationPipe)
export class ConsoleController {
  constructor(
    private readonly sessions: ConsoleSessionStore,
    private readonly bus: OtpEventBus,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  @Get()
  @ConsoleRoute({ session: false })
  @ApiConsole('The console page, or its sign-in form without a session (HTML, en/pt/de/fr by Accept-Language)', { session: false, html: true })
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(@Req() req: PageRequest): string {
    const lang = consoleLanguage(req.headers['accept-language']);
    const session = this.sessions.live(this.sessionIds(req))?.session;
    return session ? consolePage(lang, session.csrfToken) : signInPage(lang);
  }

  /** Signs in with the operator token (compared in constant time); every failure is `operator.auth_failed`. */
  @Post('session')
  @HttpCode(200)
  @ConsoleRoute({ session: false })
  @ApiConsole('Sign in with the operator token: sets the session cookie', { session: false, body: true })
  @ApiUnauthorizedResponse({ description: 'Wrong or missing token (audited as `operator.auth_failed`)', type: ApiErrorBodyDto })
  @ApiBody({ type: ConsoleSignInDto })
  @ApiBadRequestResponse({ description: 'A malformed body (audited as `operator.auth_failed`, reason `malformed`)', type: ApiErrorBodyDto })
  // The body is checked here, not by the validation pipe: a malformed sign-in is a failed one and is audited.
  signIn(@Body() body: unknown, @Req() req: PageRequest, @Res({ passthrough: true }) res: unknown): { expiresAt: string } {
    const given = signInToken(body);
    if (given === undefined) {
      this.authFailed(req, 'malformed');
      throw new BadRequestException({ error: 'validation_failed', message: 'The body takes only "token", a string of at most 1024 characters.' });
    }
    if (given.length === 0 || !constantTimeEqual(given, this.settings.adminToken!)) {
      this.authFailed(req, given.length === 0 ? 'missing' : 'mismatch');
      throw new UnauthorizedException({ error: 'unauthorized', message: 'A valid operator token is required.' });
    }
    for (const old of this.sessionIds(req)) this.sessions.revoke(old);
    const { id, session } = this.sessions.create();
    this.setCookie(res, consoleCookie(id, this.settings.sessionSeconds, this.settings.secureCookie));
    return { expiresAt: new Date(session.expiresAt).toISOString() };
  }

  /** Signs out (CSRF token required): the session is revoked on the server and the cookie cleared. */
  @Post('session/delete')
  @HttpCode(200)
  @ConsoleRoute({ session: true })
  @ApiConsole('Sign out (revokes the session)', { session: true, body: false })
  signOutByPost(@Req() req: PageRequest, @Res({ passthrough: true }) res: unknown): { signedOut: true } {
    return this.signOut(req, res);
  }

  @Delete('session')
  @HttpCode(200)
  @ConsoleRoute({ session: true })
  @ApiConsole('Sign out (revokes the session)', { session: true, body: false })
  signOut(@Req() req: PageRequest, @Res({ passthrough: true }) res: unknown): { signedOut: true } {
    this.sessions.revoke(req.consoleSessionId);
    this.setCookie(res, consoleCookie('', 0, this.settings.secureCookie));
    return { signedOut: true };
  }

  private authFailed(req: PageRequest, reason: 'malformed' | 'missing' | 'mismatch'): void {
    this.bus.emit({ name: 'operator.auth_failed', outcome: 'failure', ip: req.ip, detail: { reason, route: 'ConsoleController.signIn' } });
  }

  private sessionIds(req: PageRequest): string[] {
    return consoleSessionIds(req.headers.cookie, this.settings.secureCookie);
  }

  private setCookie(res: unknown, value: string): void {
    this.adapterHost.httpAdapter.setHeader(res, 'Set-Cookie', value);
  }
}

/** The console's stylesheet and script (same-origin files: the CSP allows no inline script or style). */
@Controller('admin/assets')
export class ConsoleAssetsController {
  @Get('console.css')
  @ConsoleRoute({ session: false, throttled: false })
  @ApiConsole('The console stylesheet', { session: false, html: true, throttled: false })
  @Header('Content-Type', 'text/css; charset=utf-8')
  css(): string {
    return consoleAssets().css.body;
  }

  @Get('console.js')
  @ConsoleRoute({ session: false, throttled: false })
  @ApiConsole('The console script', { session: false, html: true, throttled: false })
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  js(): string {
    return consoleAssets().js.body;
  }
}
