/** The mail templates; each has an HTML and a text part in `templates/`, and strings in every locale. */
export type OtpMailTemplate = 'login' | 'verify-email' | 'transaction' | 'generic-code' | 'budget-notice' | 'new-device-notice';

export const OTP_MAIL_TEMPLATES: readonly OtpMailTemplate[] = [
  'login', 'verify-email', 'transaction', 'generic-code', 'budget-notice', 'new-device-notice',
];

/** Templates of security notices; every other template carries a code. */
export type OtpNoticeTemplate = 'budget-notice' | 'new-device-notice';

/** What every mail shows about the sender. */
export interface OtpMailBrand {
  serviceName: string;
  /** Host of the configured app URL, printed as "enter it only at <appHost>". */
  appHost: string;
}

/** Context of every code mail: all fields are formatted text, so templates hold no logic. */
export interface CodeMailContext extends OtpMailBrand {
  code: string;
  validityMinutes: number;
  /** Formatted in the reader's language, UTC. */
  expiresAt: string;
  requestedAt: string;
  /** Client IP of the request, or the localised "unknown". */
  ip: string;
  /** Coarse browser summary ("Firefox on Linux"), or the localised "unknown". */
  browser: string;
}

export type LoginMailContext = CodeMailContext;
export type VerifyEmailMailContext = CodeMailContext;
/** Transaction approval: the facts the code is bound to (e.g. amount and payee). */
export interface TransactionMailContext extends CodeMailContext {
  details: { label: string; value: string }[];
}
/** Any other purpose: its name is shown. */
export interface GenericCodeMailContext extends CodeMailContext {
  purpose: string;
}
/** Sent once the failure budget of an address is spent. */
export interface BudgetNoticeMailContext extends OtpMailBrand {
  happenedAt: string;
  ip: string;
  browser: string;
  lockHours: number;
}

/** Sent after a sign-in from a browser or network the address had not used lately (R19). */
export interface NewDeviceNoticeMailContext extends OtpMailBrand {
  /** Formatted in the reader's language, UTC. */
  happenedAt: string;
  /** "Firefox on Linux", or the localised "unknown". */
  browser: string;
  /** IPv4 /24 or IPv6 /48 network, or the localised "unknown". */
  network: string;
  /** The configured `APP_URL`, printed as text (not a link) for "if this was not you". */
  appUrl: string;
}

/** One context type per template. */
export interface OtpMailContexts {
  login: LoginMailContext;
  'verify-email': VerifyEmailMailContext;
  transaction: TransactionMailContext;
  'generic-code': GenericCodeMailContext;
  'budget-notice': BudgetNoticeMailContext;
  'new-device-notice': NewDeviceNoticeMailContext;
}

/** String groups of a locale file each template uses, merged in this order. */
export const STRING_GROUPS: Record<OtpMailTemplate, string[]> = {
  login: ['footer', 'code', 'login'],
  'verify-email': ['footer', 'code', 'verify-email'],
  transaction: ['footer', 'code', 'transaction'],
  'generic-code': ['footer', 'code', 'generic-code'],
  'budget-notice': ['footer', 'budget-notice'],
  'new-device-notice': ['footer', 'new-device-notice'],
};

export interface RenderedMail {
  /** Language actually used (after the fallback chain). */
  lang: string;
  subject: string;
  text: string;
  html: string;
}
