import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { OtpConfigError } from '../core/otp.errors';
import { mintChallengeId, RECIPIENT_TAG_HEX } from './challenge-id';

/** One HMAC key with the id stored beside every digest made with it. */
export interface OtpKey {
  id: string;
  secret: Buffer;
}

/** The keys after resolution at boot: the code (HMAC), encryption and index keys, and whether they are ephemeral. */
export interface ResolvedOtpKeys {
  keys: OtpKey[];
  encryptionKeys: OtpKey[];
  indexKey?: Buffer;
  /** A list was absent and an ephemeral key generated in its place (never in production). */
  ephemeralKeys: boolean;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const MIN_KEY_BYTES = 32;

/**
 * Parses `kid1:base64,kid2:base64` (the `OTP_KEYS` form). The first key signs
 * new codes; every key listed verifies.
 */
export function parseKeyList(value: string, variable = 'OTP_KEYS'): OtpKey[] {
  const keys = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const sep = part.indexOf(':');
      const id = sep > 0 ? part.slice(0, sep) : '';
      if (!KEY_ID.test(id)) {
        throw new OtpConfigError(`${variable}: each entry must be "kid:base64" with kid of [A-Za-z0-9_-]{1,32}`);
      }
      const encoded = part.slice(sep + 1);
      if (!isBase64(encoded)) {
        throw new OtpConfigError(`${variable}: key "${id}" is not base64 (letters, digits, + and / or - and _, = padding): paste the key line whole`);
      }
      const secret = Buffer.from(encoded, 'base64');
      if (secret.length < MIN_KEY_BYTES) {
        throw new OtpConfigError(`${variable}: key "${id}" has ${secret.length} bytes; at least ${MIN_KEY_BYTES} are required`);
      }
      return { id, secret };
    });
  assertKeyList(keys, variable);
  return keys;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Standard base64 with its padding, or base64url without: `Buffer.from` would skip anything else silently. */
export function isBase64(value: string): boolean {
  return value.length > 0 && (BASE64.test(value) || (BASE64URL.test(value) && value.length % 4 !== 1));
}

/**
 * `OTP_INDEX_KEY`: one base64 secret of at least 32 bytes. `variable` names it in
 * the message (never the value).
 */
export function parseSecret(value: string, variable = 'OTP_INDEX_KEY'): Buffer {
  const encoded = value.trim();
  if (!isBase64(encoded)) throw new OtpConfigError(`${variable} is not base64 (letters, digits, + and / or - and _, = padding)`);
  const secret = Buffer.from(encoded, 'base64');
  if (secret.length < MIN_KEY_BYTES) throw new OtpConfigError(`${variable} has ${secret.length} bytes; at least ${MIN_KEY_BYTES} are required`);
  return secret;
}

export function assertKeyList(keys: OtpKey[], variable: string): void {
  if (keys.length === 0) throw new OtpConfigError(`${variable}: no key given`);
  const ids = new Set<string>();
  for (const key of keys) {
    if (!KEY_ID.test(key.id)) throw new OtpConfigError(`${variable}: invalid key id`);
    if (key.secret.length < MIN_KEY_BYTES) {
      throw new OtpConfigError(`${variable}: key "${key.id}" is shorter than ${MIN_KEY_BYTES} bytes`);
    }
    if (ids.has(key.id)) throw new OtpConfigError(`${variable}: key id "${key.id}" appears twice`);
    ids.add(key.id);
  }
}

/** A fresh random key line, for development or for `otp:keys rotate`. */
export function generateKeyLine(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** Sub-keys are derived per use, so one master key never serves two purposes. */
function derive(secret: Buffer, use: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `nestjs-email-otp/${use}/v1`, 32));
}

/**
 * Holds the HMAC keys: code digests (rotatable, every key verifies), the
 * blind index of addresses, the digest of known devices and the recipient tag
 * of challenge ids (stable keys, so limits and remembered devices survive a rotation).
 */
export class OtpKeyring {
  private readonly codeKeys: { id: string; key: Buffer }[];
  private readonly indexKey: Buffer;
  private readonly deviceKey: Buffer;
  private readonly tagKey: Buffer;

  constructor(keys: OtpKey[], indexSecret?: Buffer) {
    assertKeyList(keys, 'keys');
    this.codeKeys = keys.map((k) => ({ id: k.id, key: derive(k.secret, 'code') }));
    if (indexSecret && indexSecret.length < MIN_KEY_BYTES) {
      throw new OtpConfigError(`index key is shorter than ${MIN_KEY_BYTES} bytes`);
    }
    this.indexKey = derive(indexSecret ?? keys[0].secret, 'blind-index');
    this.deviceKey = derive(indexSecret ?? keys[0].secret, 'known-device');
    this.tagKey = derive(indexSecret ?? keys[0].secret, 'recipient-tag');
  }

  get currentKeyId(): string {
    return this.codeKeys[0].id;
  }

  get keyIds(): string[] {
    return this.codeKeys.map((k) => k.id);
  }

  /** `kid:digest` of a code under the current key, the only form stored. */
  codeDigest(challengeId: string, purpose: string, code: string): string {
    return this.digestWith(this.codeKeys[0], challengeId, purpose, code);
  }

  /**
   * Every digest the code could have been stored as (each key, each declared
   * purpose). Verify compares these with the stored ones; the code itself is
   * never a lookup key.
   */
  codeCandidates(challengeId: string, purposes: readonly string[], code: string): string[] {
    const out: string[] = [];
    for (const key of this.codeKeys) {
      for (const purpose of purposes) out.push(this.digestWith(key, challengeId, purpose, code));
    }
    return out;
  }

  /**
   * A keyed fingerprint of the blind index key (an HMAC of a fixed label under it): stored
   * once, compared at every start, so the index never changes silently. Never the key,
   * and no plain hash of it.
   */
  get indexKeyFingerprint(): string {
    return createHmac('sha256', this.indexKey).update('nestjs-email-otp/index-key-fingerprint/v1', 'utf8').digest('base64url');
  }

  /** Keyed blind index of a canonical address: lookups and limits without the address. */
  blindIndex(canonicalEmail: string): string {
    return createHmac('sha256', this.indexKey).update(canonicalEmail, 'utf8').digest('base64url');
  }

  /**
   * Keyed digest of a coarse device (browser and OS family, IP network) of one address:
   * whether a sign-in comes from a known device, without storing the device.
   */
  deviceDigest(recipientIndex: string, device: readonly string[]): string {
    return macFields(this.deviceKey, [recipientIndex, ...device]);
  }

  /**
   * The recipient tag of a blind index: the first 52 bits of an HMAC of it under its own
   * sub-key, as 13 hex digits. Every challenge id of one address carries it, so the verify
   * limiter counts per recipient without reading the challenge. Keyed: nobody without the
   * index key can tell which address a tag stands for, nor make an address's tag.
   */
  recipientTag(recipientIndex: string): string {
    return createHmac('sha256', this.tagKey).update(recipientIndex, 'utf8').digest('hex').slice(0, RECIPIENT_TAG_HEX);
  }

  /** A new challenge id of the recipient: a UUIDv8 carrying its tag (`mintChallengeId`). */
  newChallengeId(recipientIndex: string): string {
    return mintChallengeId(this.recipientTag(recipientIndex));
  }

  private digestWith(key: { id: string; key: Buffer }, challengeId: string, purpose: string, code: string): string {
    return `${key.id}:${macFields(key.key, [challengeId, purpose, code])}`;
  }
}

/** HMAC over length-prefixed fields: no two field lists share an input. */
function macFields(key: Buffer, fields: readonly string[]): string {
  const mac = createHmac('sha256', key);
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    mac.update(len).update(bytes);
  }
  return mac.digest('base64url');
}
