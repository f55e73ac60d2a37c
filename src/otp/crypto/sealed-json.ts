import type { OtpCipher } from './otp-cipher';

/**
 * The one way a JSON payload is sealed for a row (a challenge's delivery details, an
 * outbox mail): AES-256-GCM under the current key, bound to the id of the row it is
 * stored in, so a ciphertext copied to another row does not open.
 */
export function sealJson(cipher: Pick<OtpCipher, 'encrypt'>, value: unknown, rowId: string): string {
  return cipher.encrypt(JSON.stringify(value), rowId);
}

/** Opens what `sealJson` sealed for `rowId`. Throws under an unknown key, for another row, or when altered. */
export function openJson<T>(cipher: Pick<OtpCipher, 'decrypt'>, sealed: string, rowId: string): T {
  return JSON.parse(cipher.decrypt(sealed, rowId)) as T;
}

/** `openJson`, or undefined when the payload does not open (e.g. sealed under a key this instance lacks). */
export function tryOpenJson<T>(cipher: Pick<OtpCipher, 'decrypt'>, sealed: string, rowId: string): T | undefined {
  try {
    return openJson<T>(cipher, sealed, rowId);
  } catch {
    return undefined;
  }
}
