import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Post, Req, Res, UnauthorizedException, UsePipes } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiErrorBodyDto } from '../../http/openapi-responses';
import { BodyDepthPipe, OtpEventBus } from 'nestjs-email-otp';
import { appValidationPipe } from '../../common/app-validation.pipe';
import { consoleAssets } from './console-assets';
import { consoleCookie, consoleSessionId } from './console-cookie';
import { ConsoleSessionStore, constantTimeEqual } from './console-session.store';
import { ConsoleSignInDto } from './console.dto';
import { ApiConsole } from './console.openapi';
import { ConsoleRequest, ConsoleRoute } from './console.guards';
import { consolePage, signInPage } from './console.page';
import { CONSOLE_SETTINGS, ConsoleSettings } from './console.settings';
import { consoleLanguage } from './console.strings';

type PageRequest = ConsoleRequest & { ip?: string };

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
    const session = this.sessions.get(consoleSessionId(req.headers.cookie));
    return session ? consolePage(lang, session.csrfToken) : signInPage(lang);
  }

  /** Signs in with the operator token (compared in constant time); every failure is `operator.auth_failed`. */
  @Post('session')
  @HttpCode(200)
  @ConsoleRoute({ session: false })
  @ApiConsole('Sign in with the operator token: sets the session cookie', { session: false, body: true })
  @ApiUnauthorizedResponse({ description: 'Wrong or missing token (audited as `operator.auth_failed`)', type: ApiErrorBodyDto })
  signIn(@Body() body: ConsoleSignInDto, @Req() req: PageRequest, @Res({ passthrough: true }) res: unknown): { expiresAt: string } {
    const given = body.token ?? '';
    if (given.length === 0 || !constantTimeEqual(given, this.settings.adminToken!)) {
      this.bus.emit({
        name: 'operator.auth_failed',
        outcome: 'failure',
        ip: req.ip,
        detail: { reason: given.length === 0 ? 'missing' : 'mismatch', route: 'ConsoleController.signIn' },
      });
      throw new UnauthorizedException({ error: 'unauthorized', message: 'A valid operator token is required.' });
    }
    this.sessions.revoke(consoleSessionId(req.headers.cookie));
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
