import { OtpMailUnsupportedError } from '../otp-mailer.port';

/** Why a send failed, as recorded on the outbox row: a class, never the message or the address. */
export type MailErrorClass =
  | 'tls'
  | 'connection'
  | 'timeout'
  | 'auth'
  | 'rejected'
  | 'deferred'
  | 'protocol'
  | 'unsupported'
  | 'error';

const TLS_HINT = /certificate|self[- ]signed|tls|ssl|handshake|protocol version|starttls|unable to verify|altname/i;

/**
 * Classifies a transport error. Only a relay's 5xx answer (the recipient or the
 * message refused) and a port that cannot send are permanent; everything else
 * is retried until the deadline, TLS failures included: they are usually a
 * configuration fixed within minutes, and retrying never falls back to plaintext.
 */
export function classifyMailError(err: unknown): { errorClass: MailErrorClass; permanent: boolean } {
  if (err instanceof OtpMailUnsupportedError) return { errorClass: 'unsupported', permanent: true };
  const e = (err ?? {}) as { code?: string; responseCode?: number; message?: string; name?: string };
  const code = String(e.code ?? '');
  const message = String(e.message ?? '');
  if (code === 'ETLS' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SIGNATURE|SELF_SIGNED/.test(code)) {
    return { errorClass: 'tls', permanent: false };
  }
  // A refused STARTTLS (e.g. 502) is ETLS above, not a refused message.
  if (typeof e.responseCode === 'number' && e.responseCode >= 500 && code !== 'EAUTH') return { errorClass: 'rejected', permanent: true };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && code !== 'EAUTH') return { errorClass: 'deferred', permanent: false };
  if (code === 'EAUTH' || code === 'ENOAUTH') return { errorClass: 'auth', permanent: false };
  if (code === 'ETIMEDOUT' || e.name === 'OtpMailTimeoutError') return { errorClass: 'timeout', permanent: false };
  if (TLS_HINT.test(message)) return { errorClass: 'tls', permanent: false };
  if (['ECONNECTION', 'ECONNREFUSED', 'ECONNRESET', 'ESOCKET', 'EDNS', 'EPIPE', 'EHOSTUNREACH'].includes(code)) {
    return { errorClass: 'connection', permanent: false };
  }
  if (code === 'EPROTOCOL') return { errorClass: 'protocol', permanent: false };
  return { errorClass: 'error', permanent: false };
}
