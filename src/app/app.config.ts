import { OtpModuleOptions } from 'nestjs-email-otp';
import { currentAccountEmail } from './accounts';
import { rateLimitsFromEnv } from './rate-limit.config';

/** The example app's OTP configuration, from the environment (documented in the README). */
export function otpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OtpModuleOptions {
  return {
    keys: env.OTP_KEYS,
    encryptionKeys: env.OTP_ENCRYPTION_KEYS,
    indexKey: env.OTP_INDEX_KEY,
    production: env.NODE_ENV === 'production',
    // Binds transfer codes to the signed-in account (set by SessionGuard, which runs before OtpGuard).
    currentUserEmail: currentAccountEmail,
    audit: { adminToken: env.OTP_ADMIN_TOKEN, enabled: env.OTP_AUDIT !== 'off' },
    monitoring: { alerts: { webhookUrl: env.OTP_ALERT_WEBHOOK_URL } },
    purposes: {
      login: { ttlSeconds: 600 },
      'verify-email': { ttlSeconds: 600 },
      // Issued only by POST /payments/transfers/challenges (issue: 'host', the default with requiresContext).
      transfer: {
        ttlSeconds: 300,
        requiresContext: true,
        contextFields: { amount: 'number', to: 'string' },
        display: {
          amount: { type: 'amount', currency: 'EUR', label: { en: 'Amount', pt: 'Montante', de: 'Betrag', fr: 'Montant' } },
          to: { type: 'identifier', pattern: /[A-Za-z0-9][A-Za-z0-9._-]{0,63}/, label: { en: 'Payee', pt: 'Beneficiário', de: 'Empfänger', fr: 'Bénéficiaire' } },
        },
      },
    },
    // A short cooldown lets the resend countdown be tried (and tested) without waiting a minute.
    resend: env.OTP_RESEND_COOLDOWN_SECONDS ? { cooldownSeconds: Number(env.OTP_RESEND_COOLDOWN_SECONDS) } : undefined,
    rateLimits: rateLimitsFromEnv(env),
    mail: mailOptionsFromEnv(env),
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS !== 'false',
    migrationsTableName: env.OTP_MIGRATIONS_TABLE || undefined,
  };
}

/** Mail delivery from the environment (README, "Mail delivery"). */
export function mailOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OtpModuleOptions['mail'] {
  const dkim = env.DKIM_DOMAIN || env.DKIM_SELECTOR || env.DKIM_PRIVATE_KEY_FILE
    ? { domainName: env.DKIM_DOMAIN ?? '', keySelector: env.DKIM_SELECTOR ?? '', privateKeyFile: env.DKIM_PRIVATE_KEY_FILE }
    : undefined;
  return {
    smtpUrl: env.SMTP_URL || undefined,
    caFile: env.SMTP_CA_FILE || undefined,
    allowPlainSmtpInDevelopment: env.SMTP_ALLOW_PLAIN_DEV === 'true',
    from: env.MAIL_FROM || undefined,
    appUrl: env.APP_URL || undefined,
    dkim,
    templatesDir: env.MAIL_TEMPLATES_DIR || undefined,
    templatesOverlay: env.MAIL_TEMPLATES_OVERLAY || undefined,
    pollIntervalMs: env.MAIL_POLL_INTERVAL_MS ? Number(env.MAIL_POLL_INTERVAL_MS) : undefined,
    claimIntervalMs: env.MAIL_CLAIM_INTERVAL_MS ? Number(env.MAIL_CLAIM_INTERVAL_MS) : undefined,
    dispatcher: env.MAIL_DISPATCHER === 'false' ? false : undefined,
    retry: env.MAIL_RETRY_BASE_MS ? { baseMs: Number(env.MAIL_RETRY_BASE_MS) } : undefined,
    batchSize: env.MAIL_BATCH_SIZE ? Number(env.MAIL_BATCH_SIZE) : undefined,
    maxInFlight: env.MAIL_MAX_IN_FLIGHT ? Number(env.MAIL_MAX_IN_FLIGHT) : undefined,
    recordDelayMs: env.MAIL_RECORD_DELAY_MS ? Number(env.MAIL_RECORD_DELAY_MS) : undefined,
    recordRetryMs: env.MAIL_RECORD_RETRY_MS ? Number(env.MAIL_RECORD_RETRY_MS) : undefined,
    smtpConnections: env.MAIL_SMTP_CONNECTIONS ? Number(env.MAIL_SMTP_CONNECTIONS) : undefined,
    leaseSeconds: env.MAIL_LEASE_SECONDS ? Number(env.MAIL_LEASE_SECONDS) : undefined,
  };
}
