/**
 * The inserts one table's statement makes into another table, so both rows are one write:
 * a code's mail into `otp_mail_outbox` (the issue and resend statements of
 * `OtpChallengeStore`, the budget notice of `OtpMailOutboxStore`, the new-device notice of
 * `OtpKnownDeviceStore`) and a verified code's proof into `otp_tokens` (the verify
 * statement). They sit here, below every store that composes them, so the challenge store
 * needs neither `mail/` nor `tokens/`; each table's other statements stay with its owner
 * (`otp-mail-outbox.sql.ts`, `otp-token.sql.ts`). Arguments are SQL expressions.
 */

/** SQL expressions (placeholders, columns or literals) for the columns of a new outbox row. */
export interface OutboxInsertValues {
  id: string;
  challengeId: string;
  kind: string;
  purpose: string;
  recipientIndex: string;
  payloadCiphertext: string;
  deadlineAt: string;
}

/** `INSERT ... SELECT <values> FROM <from>`: one outbox row for each row of `from`. */
export function outboxInsert(v: OutboxInsertValues, from: string): string {
  return `INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
         SELECT ${v.id}, ${v.challengeId}, ${v.kind}, ${v.purpose}, ${v.recipientIndex}, ${v.payloadCiphertext}, ${v.deadlineAt} FROM ${from}`;
}

/**
 * `INSERT ... SELECT`: the token of the challenge row `consumed` (columns purpose,
 * context_hash, recipient_index, consumed_at) when it was consumed, none otherwise. It
 * expires `ttl` seconds after `consumed_at`. Arguments are SQL placeholders.
 */
export function mintTokenOfConsumed(p: { hash: string; challengeId: string; amr: string; ttl: string }, consumed: string): string {
  return `INSERT INTO otp_tokens (token_hash, challenge_id, purpose, context_hash, recipient_index, amr, verified_at, expires_at)
         SELECT ${p.hash}, ${p.challengeId}, a.purpose, a.context_hash, a.recipient_index, ${p.amr}::text[], a.consumed_at,
           a.consumed_at + make_interval(secs => ${p.ttl})
         FROM ${consumed} a WHERE a.consumed_at IS NOT NULL`;
}
