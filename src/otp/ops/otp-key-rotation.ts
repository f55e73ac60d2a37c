import { generateKeyLine, parseKeyList } from '../crypto/otp-keyring';

export interface RotationPlan {
  /** The new `OTP_KEYS` value: the new key first, the current ones after it. */
  keys: string;
  /** Set when `OTP_INDEX_KEY` was unset: pins the blind index to the old first key. */
  indexKey?: string;
  newKeyId: string;
  steps: string[];
}

/**
 * A rotation of the code keys. The new key signs new codes; the old ones keep
 * verifying until the codes they signed expire (at most the longest TTL). When
 * the blind index was derived from the first key, it is pinned to that key's
 * secret so per-address limits and supersession survive the rotation.
 */
export function planKeyRotation(currentKeys: string | undefined, indexKeySet: boolean, maxTtlSeconds = 86_400): RotationPlan {
  if (!currentKeys) throw new Error('OTP_KEYS is not set: there is nothing to rotate (generate a first key with otp:keys -- new)');
  const current = parseKeyList(currentKeys);
  const used = new Set(current.map((k) => k.id));
  let n = current.length + 1;
  while (used.has(`k${n}`)) n++;
  const newKeyId = `k${n}`;
  const line = generateKeyLine(newKeyId);
  const keys = [line, ...current.map((k) => `${k.id}:${k.secret.toString('base64')}`)].join(',');
  const indexKey = indexKeySet ? undefined : current[0].secret.toString('base64');
  const oldIds = current.map((k) => k.id).join(', ');
  const steps = [
    ...(indexKey ? ['Set OTP_INDEX_KEY as printed (it pins the address index, which was derived from the old first key).'] : []),
    `Store the new OTP_KEYS in your secret store (vault/KMS), never in the repository.`,
    `Roll it out to every instance. New codes are signed with ${newKeyId}; codes signed with ${oldIds} keep verifying.`,
    `After ${Math.ceil(maxTtlSeconds / 3600)} h (the longest code lifetime) remove the retired key(s) from OTP_KEYS and roll out again.`,
    `The app records a key.rotated audit event when an instance starts signing with ${newKeyId}.`,
  ];
  return { keys, indexKey, newKeyId, steps };
}
