import { randomInt } from 'node:crypto';
import type { ResolvedOtpMailOptions } from '../mail-options';

/**
 * How long a failed mail waits before its next try: `base * 2^(attempt-1)`, capped at
 * `max`, times a uniform factor in [0.5, 1.5) so that mails failing together do not
 * retry together. `jitter` is that factor's random part, in [0, 1).
 */
export function mailBackoffMs(
  attempt: number,
  retry: ResolvedOtpMailOptions['retry'],
  jitter = randomInt(0, 1_000_000) / 1_000_000,
): number {
  const raw = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  // floor, not round: the factor is in [0.5, 1.5), and rounding could reach 1.5 x raw.
  return Math.floor(raw * (0.5 + jitter));
}
