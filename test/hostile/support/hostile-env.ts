/**
 * Environment pieces of the hostile suites. Variables a build does not read yet
 * are ignored by it (rate limits, TLS termination and mail arrive with their own work).
 */

/** Per-IP and global limits out of the way: these suites send thousands of requests from 127.0.0.1. */
export function ipLimitsRaised(): NodeJS.ProcessEnv {
  return {
    RATE_LIMIT_IP_SEND: '1000000/60',
    RATE_LIMIT_IP_VERIFY: '1000000/60',
    RATE_LIMIT_NETWORK_SEND: '1000000/60',
    RATE_LIMIT_GLOBAL_SEND: '1000000/60',
    RATE_LIMIT_KEY_PREFIX: `otp-hostile-${process.pid}-${Date.now()}:`,
  };
}

/** Every rate limit out of the way, so that what stops an attacker is the failure budget alone. */
export function allLimitsRaised(): NodeJS.ProcessEnv {
  return {
    ...ipLimitsRaised(),
    RATE_LIMIT_RECIPIENT: '1000000/60',
    RATE_LIMIT_RECIPIENT_DAILY: '1000000/86400',
    RATE_LIMIT_VERIFY_RECIPIENT_IP: '1000000/600',
  };
}

/** Production mode as deployed behind a TLS-terminating proxy, with the mail settings production requires. */
export const PRODUCTION_ENV: NodeJS.ProcessEnv = {
  NODE_ENV: 'production',
  TLS_TERMINATED_BY_PROXY: 'true',
  SMTP_URL: 'smtps://127.0.0.1:9',
  MAIL_FROM: '"Hostile tests" <otp@example.test>',
  APP_URL: 'https://app.example.test',
};
