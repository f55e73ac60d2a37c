import { Controller, Get, Header, Headers, Inject, NotFoundException, Param, Res, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PAGE_HEADERS } from './page-headers';
import { PageQueryGuard } from './page-query.guard';
import { PageAsset } from './page-assets';
import { renderPage, SafeHtml } from './page-html';
import { negotiateLanguage, PageLanguage, PageStrings } from './page-strings';
import { accountBody, signInBody, transferBody, TransferDetailsDisplay } from './pages.views';

/** What the pages are built from, resolved once at start-up (`PagesModule.forEnv`). */
export interface PagesSettings {
  serviceName: string;
  /** The From of the code mails, named on the sign-in page (R20). */
  sender: string;
  strings: Record<PageLanguage, PageStrings>;
  assets: ReadonlyMap<string, PageAsset>;
  transfer: TransferDetailsDisplay;
}

export const PAGES_SETTINGS = Symbol('PAGES_SETTINGS');

/**
 * The example app's pages: server-rendered HTML whose same-origin scripts call the JSON
 * routes (`/auth/otp/...`, `/accounts/...`, `/payments/transfers/...`).
 */
@Controller()
@ApiTags('pages')
@UseGuards(PageQueryGuard)
export class PagesController {
  constructor(
    @Inject(PAGES_SETTINGS) private readonly settings: PagesSettings,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  @PageResponse()
  signIn(@Headers('accept-language') accept?: string): string {
    return this.page(accept, 'signInTitle', 'sign-in.js', (t) => signInBody(t, this.settings.sender));
  }

  @Get('account')
  @PageResponse()
  account(@Headers('accept-language') accept?: string): string {
    return this.page(accept, 'accountTitle', 'account.js', (t) => accountBody(t));
  }

  @Get('transfer')
  @PageResponse()
  transfer(@Headers('accept-language') accept?: string): string {
    return this.page(accept, 'transferTitle', 'transfer.js', (t) => transferBody(t, this.settings.transfer));
  }

  @Get('assets/:name')
  @ApiProduces('text/css', 'text/javascript')
  @ApiOkResponse({ description: 'The pages\' stylesheet (`pages.css`) or a script (`common.js`, `sign-in.js`, `account.js`, `transfer.js`); 404 for any other name' })
  asset(@Param('name') name: string, @Res({ passthrough: true }) res: unknown): string {
    const asset = this.settings.assets.get(name);
    if (!asset) throw new NotFoundException();
    const http = this.adapterHost.httpAdapter;
    http.setHeader(res, 'Content-Type', asset.type);
    http.setHeader(res, 'Cache-Control', 'no-cache');
    return asset.body;
  }

  private page(accept: string | undefined, titleKey: string, script: string, build: (t: PageStrings) => { body: SafeHtml; attributes: SafeHtml }): string {
    const lang = negotiateLanguage(accept);
    const t = this.settings.strings[lang];
    const { body, attributes } = build(t);
    return renderPage({ lang, t, serviceName: this.settings.serviceName, title: t[titleKey], script, mainAttributes: attributes, body });
  }
}

/** The page headers (`PAGE_HEADERS`) on a route, set after helmet's so they replace its CSP; `Vary` for the language. */
function PageResponse(): MethodDecorator {
  return (target, key, descriptor) => {
    ApiProduces('text/html')(target, key, descriptor);
    ApiOkResponse({ description: 'An HTML page (no-store, its own CSP) in the language of `Accept-Language` (en, pt, de, fr)' })(target, key, descriptor);
    for (const [name, value] of Object.entries({ ...PAGE_HEADERS, Vary: 'Accept-Language' })) Header(name, value)(target, key, descriptor);
  };
}
