import { createCipheriv, createDecipheriv } from 'node:crypto';
import { OtpConfigError } from '../core/otp.errors';
import type { OtpKey } from './otp-keyring';
import { randomBytesPooled } from './random-pool';

const AES_KEY_BYTES = 32;

/**
 * AES-256-GCM for the few things that must be recoverable for a while (the
 * recipient of a pending mail). The first key encrypts; any key decrypts.
 * Ciphertext form: `kid.iv.ciphertext.tag` (base64url), bound to `aad`.
 */
export class OtpCipher {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(keys: OtpKey[]) {
    if (keys.length === 0) throw new OtpConfigError('encryption keys: no key given');
    for (const k of keys) {
      if (k.secret.length !== AES_KEY_BYTES) {
        throw new OtpConfigError(`encryption key "${k.id}" must be exactly ${AES_KEY_BYTES} bytes`);
      }
    }
    this.keys = new Map(keys.map((k) => [k.id, k.secret]));
    this.currentId = keys[0].id;
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytesPooled(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.currentId, iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws when the key is unknown or the ciphertext or its binding was altered. */
  decrypt(ciphertext: string, aad: string): string {
    const [kid, iv, body, tag] = ciphertext.split('.');
    const key = this.keys.get(kid);
    if (!key || iv === undefined || body === undefined || tag === undefined) {
      throw new Error('ciphertext under an unknown key or malformed');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
