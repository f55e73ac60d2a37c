import { sha256 } from '../crypto/sha256';

export const OTP_THROTTLER_OPTIONS = Symbol('OTP_THROTTLER_OPTIONS');
export const OTP_THROTTLER_STORAGE = Symbol('OTP_THROTTLER_STORAGE');

/**
 * The storage key of one counter: the throttler's name and a hash of what it counts
 * (an IP, a network, a blind index), so Redis holds neither addresses nor IPs.
 */
export function throttlerKey(keyPrefix: string, name: string, tracker: string): string {
  return `${keyPrefix}${name}:${sha256(tracker, 'base64url')}`;
}
