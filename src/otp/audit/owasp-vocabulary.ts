import { isThrottleEvent } from '../events/otp-event';
import { OtpEvent } from '../events/otp-event';

/**
 * Our event names mapped to the OWASP logging vocabulary
 * (cheatsheetseries.owasp.org, "Application Logging Vocabulary Cheat Sheet").
 * Events without an entry are stored with `owasp = null`; new names flow through.
 */
const BY_NAME: Record<string, string> = {
  'challenge.issued': 'authn_token_created',
  'verify.succeeded': 'authn_login_success',
  'verify.failed': 'authn_login_fail',
  'challenge.exhausted': 'authn_login_fail_max',
  'budget.spent': 'authn_login_lock',
  'token.issued': 'authn_token_created',
  'token.revoked': 'authn_token_revoked',
  'records.erased': 'sensitive_delete',
  'challenges.invalidated': 'authn_token_revoked',
  'retention.purged': 'sensitive_delete',
  'audit.queried': 'sensitive_read',
  // A wrong or missing operator token on /metrics or /admin/otp/audit/*.
  'operator.auth_failed': 'authn_login_fail',
  // The host reports a sign-in it completed (a session it created): see OtpSignInNotifier.
  'sign_in.recorded': 'session_created',
  // The host reports a refused password change (a wrong current password).
  'password.change_failed': 'authn_password_change_fail',
};

/** The OWASP vocabulary name of an event, or null when none fits. */
export function owaspNameOf(event: Pick<OtpEvent, 'name' | 'outcome' | 'detail'>): string | null {
  const reason = event.detail?.reason;
  if (isThrottleEvent(event)) return 'excess_rate_limit_exceeded';
  if (event.name === 'challenge.resent') return event.outcome === 'success' ? 'authn_token_created' : 'authn_login_fail';
  if (event.name === 'verify.failed' && reason === 'budget_spent') return 'authn_login_lock';
  if (event.name === 'token.refused') return reason === 'reused' || reason === 'reuse' ? 'authn_token_reuse' : 'authz_fail';
  return BY_NAME[event.name] ?? null;
}
