import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { resolveAuditOptions } from '../audit/audit-options';
import { otpMigrationsTable } from '../persistence/otp-migrations.runner';
import { OtpKey, parseKeyList, parseSecret } from '../crypto/otp-keyring';
import { resolveOtpMailOptions } from '../mail/mail-options';
import { resolveContextDisplay } from '../mail/otp-context-display';
import { resolveMonitoringOptions } from '../monitoring/monitoring-options';
import { resolveRetentionOptions } from '../ops/ops-options';
import { OtpConfigError } from '../core/otp.errors';
import { resolveRateLimits } from '../rate-limit/rate-limit-options';
import { resolveSignInNoticeOptions } from '../sign-in/sign-in-options';
import { resolveOtpTokenOptions } from '../tokens/tokens-options';
import { deepFrozen } from './otp-options.freeze';
import { OtpModuleOptions, ResolvedOtpOptions } from './otp-options.interface';

export const MAX_TTL_SECONDS = 86_400;
export const SHORT_TTL_SECONDS = 600;
export const MAX_FAILURE_BUDGET = 100;
const PURPOSE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** The host's own objects with behaviour: shared as given, never copied or frozen (see `deepFrozen`). */
const HOST_OBJECTS = ['rateLimits.storage', 'monitoring.sinks.*'];

function intInRange(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OtpConfigError(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return v;
}

/**
 * Applies every feature's defaults and refuses insecure or impossible settings, all at
 * start-up (the only place the raw options are read), into one deeply frozen object.
 */
export function resolveOtpOptions(options: OtpModuleOptions, logger = new Logger('OtpModule')): ResolvedOtpOptions {
  const production = options.production ?? process.env.NODE_ENV === 'production';
  assertProductionSettings(options, production);
  const secrets = resolveSecrets(options, logger);
  const audit = resolveAuditOptions(options.audit, production, logger);
  const purposes = resolvePurposes(options.purposes ?? { login: {} });
  return deepFrozen<ResolvedOtpOptions>({
    ...secrets,
    purposes,
    codeLength: intInRange('codeLength', options.codeLength, 6, 6, 10),
    maxAttempts: intInRange('maxAttempts', options.maxAttempts, 5, 1, 10),
    failureBudget: {
      maxFailures: intInRange('failureBudget.maxFailures', options.failureBudget?.maxFailures, 20, 1, MAX_FAILURE_BUDGET),
      windowSeconds: intInRange('failureBudget.windowSeconds', options.failureBudget?.windowSeconds, 86_400, 60, 30 * 86_400),
      delay: resolveEscalatingDelay(options.failureBudget?.escalatingDelay, options.failureBudget?.maxFailures ?? 20),
    },
    resend: {
      cooldownSeconds: intInRange('resend.cooldownSeconds', options.resend?.cooldownSeconds, 60, 0, 3600),
      maxResends: intInRange('resend.maxResends', options.resend?.maxResends, 3, 0, 10),
      maxLiveCodes: intInRange('resend.maxLiveCodes', options.resend?.maxLiveCodes, 3, 1, 3),
    },
    production,
    rateLimits: resolveRateLimits(options.rateLimits, production),
    mail: withPurposeTemplates(resolveOtpMailOptions(options.mail, production), options.mail?.templateByPurpose, purposes),
    preparedStatements: options.preparedStatements ?? true,
    migrationsTableName: migrationsTable(options.migrationsTableName),
    tokens: resolveOtpTokenOptions(options.tokens, options.currentUserEmail),
    audit,
    monitoring: resolveMonitoringOptions(options.monitoring),
    retention: resolveRetentionOptions(options.retention),
    signInNotices: resolveSignInNoticeOptions(options.signInNotices),
  }, HOST_OBJECTS);
}

const absent = (given: unknown) => given === undefined || given === '' || (Array.isArray(given) && given.length === 0);

/** Production names every missing setting at once, not one per restart. */
function assertProductionSettings(options: OtpModuleOptions, production: boolean): void {
  const missing = production ? productionSettingsMissing(options) : [];
  if (missing.length === 0) return;
  const hints = [
    ...(missing.some((m) => m.startsWith('OTP_')) ? ['keys: npm run otp:keys -- new, OTP_INDEX_KEY a base64 secret of 32 bytes'] : []),
    ...(missing.includes('SMTP_URL') ? ['SMTP_URL: smtps://host:465 or smtp://host:587 with STARTTLS, or mail.useHostMailer (the development mailbox is off in production)'] : []),
  ];
  throw new OtpConfigError(`required in production and not set: ${missing.join(', ')} (${[...hints, 'see the README, "Configuration"'].join('; ')})`);
}

/** The code, encryption and index keys; an absent list becomes an ephemeral key (production refused that above). */
function resolveSecrets(options: OtpModuleOptions, logger: Logger): Pick<ResolvedOtpOptions, 'keys' | 'encryptionKeys' | 'indexKey' | 'ephemeralKeys'> {
  let ephemeralKeys = false;
  const keyList = (given: string | OtpKey[] | undefined, variable: string): OtpKey[] => {
    if (absent(given)) {
      logger.warn(`No ${variable} configured: using an ephemeral key. Pending codes stop working when the process restarts.`);
      ephemeralKeys = true;
      return [{ id: 'ephemeral', secret: randomBytes(32) }];
    }
    return typeof given === 'string' ? parseKeyList(given, variable) : given!;
  };
  const keys = keyList(options.keys, 'OTP_KEYS');
  const encryptionKeys = keyList(options.encryptionKeys, 'OTP_ENCRYPTION_KEYS');
  const indexKey = options.indexKey ? parseSecret(options.indexKey, 'OTP_INDEX_KEY') : undefined;
  assertOneRolePerSecret(keys, indexKey, encryptionKeys);
  return { keys, encryptionKeys, indexKey, ephemeralKeys };
}

/** Each declared purpose with its defaults; at least one. */
function resolvePurposes(declared: NonNullable<OtpModuleOptions['purposes']>): ResolvedOtpOptions['purposes'] {
  const purposes: ResolvedOtpOptions['purposes'] = {};
  for (const [name, p] of Object.entries(declared)) {
    if (!PURPOSE_NAME.test(name)) throw new OtpConfigError(`purpose "${name}" must match ${PURPOSE_NAME}`);
    const maxTtl = p.allowLongTtl ? MAX_TTL_SECONDS : SHORT_TTL_SECONDS;
    const requiresContext = p.requiresContext ?? false;
    if (p.issue !== undefined && p.issue !== 'public' && p.issue !== 'host') {
      throw new OtpConfigError(`purposes.${name}.issue must be 'public' or 'host'`);
    }
    purposes[name] = {
      ttlSeconds: intInRange(`purposes.${name}.ttlSeconds${p.allowLongTtl ? '' : ' (above 600 needs allowLongTtl)'}`, p.ttlSeconds, 600, 30, maxTtl),
      requiresContext,
      contextFields: p.contextFields ?? {},
      // A context-bound mail is an approval request in your name: only the host chooses its words, unless loosened by name.
      issue: p.issue ?? (requiresContext ? 'host' : 'public'),
      display: resolveContextDisplay(name, p.display, p.contextFields ?? {}),
      allowLongTtl: p.allowLongTtl ?? false,
    };
  }
  if (Object.keys(purposes).length === 0) throw new OtpConfigError('declare at least one purpose');
  return purposes;
}

/**
 * Each declared purpose's mail template, fixed at start-up by purpose alone: the explicit
 * `templateByPurpose` entry, else the default map's, else `transaction` for a host purpose
 * that requires a context and `generic-code` otherwise. An approval mail ("approve your
 * transaction") is never a public purpose's: anyone can start those. The default map's
 * entry for one (`step-up`) falls back to `generic-code`; an explicit one is refused.
 */
function withPurposeTemplates(
  mail: ResolvedOtpOptions['mail'],
  explicit: Record<string, string> | undefined,
  purposes: ResolvedOtpOptions['purposes'],
): ResolvedOtpOptions['mail'] {
  const templates: ResolvedOtpOptions['mail']['templateByPurpose'] = {};
  for (const [name, p] of Object.entries(purposes)) {
    const given = Object.hasOwn(mail.templateByPurpose, name) ? mail.templateByPurpose[name] : undefined;
    let template = given ?? (p.issue === 'host' && p.requiresContext ? 'transaction' : 'generic-code');
    if (template === 'transaction' && p.issue === 'public') {
      if (explicit && Object.hasOwn(explicit, name)) {
        throw new OtpConfigError(`mail.templateByPurpose.${name} is 'transaction', but purpose "${name}" is public (anyone can start it): make it issue: 'host' or pick another template`);
      }
      template = 'generic-code';
    }
    templates[name] = template;
  }
  return { ...mail, templateByPurpose: templates };
}

/** The settings production cannot run without, by the example app's variable names. */
function productionSettingsMissing(options: OtpModuleOptions): string[] {
  const required: [string, unknown][] = [
    ['OTP_KEYS', options.keys],
    ['OTP_ENCRYPTION_KEYS', options.encryptionKeys],
    // The index key pinned on its own: rotating OTP_KEYS then never moves the blind index.
    ['OTP_INDEX_KEY', options.indexKey],
    // With mail.useHostMailer the host's MailerService is the relay (the mail resolver refuses smtpUrl beside it).
    ...(options.mail?.useHostMailer === true ? [] : [['SMTP_URL', options.mail?.smtpUrl] as [string, unknown]]),
    ['MAIL_FROM', options.mail?.from],
    ['APP_URL', options.mail?.appUrl],
  ];
  return required.filter(([, value]) => absent(value)).map(([name]) => name);
}

/**
 * One secret, one role: an HMAC key (code keys, index key) is never also an AES key.
 * The index key may equal a code key: both are HMAC keys, each derived per use, and
 * pinning the index to the old first code key is how a rotation keeps it.
 */
function assertOneRolePerSecret(keys: OtpKey[], indexKey: Buffer | undefined, encryptionKeys: OtpKey[]): void {
  const hmac: [string, Buffer][] = [
    ...keys.map((k): [string, Buffer] => [`OTP_KEYS key "${k.id}"`, k.secret]),
    ...(indexKey ? [['OTP_INDEX_KEY', indexKey] as [string, Buffer]] : []),
  ];
  for (const e of encryptionKeys) {
    const clash = hmac.find(([, secret]) => secret.equals(e.secret));
    if (clash) {
      throw new OtpConfigError(`${clash[0]} and OTP_ENCRYPTION_KEYS key "${e.id}" are the same secret: give the HMAC and the encryption keys their own (npm run otp:keys -- new)`);
    }
  }
}

/** Escalating delays between verifications of one address (R10); `false` turns them off. */
function resolveEscalatingDelay(
  option: false | { afterFailures?: number; baseSeconds?: number; maxSeconds?: number } | undefined,
  maxFailures: number,
): { afterFailures: number; baseSeconds: number; maxSeconds: number } | null {
  if (option === false) return null;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new OtpConfigError('failureBudget.escalatingDelay must be false or an object');
  }
  const baseSeconds = intInRange('failureBudget.escalatingDelay.baseSeconds', option?.baseSeconds, 2, 1, 3600);
  return {
    // A wait that starts only once the budget is spent would never apply: refused rather than ignored.
    afterFailures: intInRange('failureBudget.escalatingDelay.afterFailures', option?.afterFailures, Math.min(5, maxFailures), 1, maxFailures),
    baseSeconds,
    maxSeconds: intInRange('failureBudget.escalatingDelay.maxSeconds', option?.maxSeconds, Math.max(900, baseSeconds), baseSeconds, 86_400),
  };
}

/** The bin's own check of the table name, as a start-up error. */
function migrationsTable(name: string | undefined): string {
  try {
    return otpMigrationsTable(name, 'migrationsTableName');
  } catch (err) {
    throw new OtpConfigError((err as Error).message);
  }
}
