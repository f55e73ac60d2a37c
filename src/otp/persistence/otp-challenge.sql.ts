import { BudgetParams, budgetJoin, budgetState, passBudget } from './otp-failure-budget.sql';
import { mintTokenOfConsumed, outboxInsert } from './otp-shared-inserts.sql';

/**
 * Statements on `otp_challenges`, owned by `OtpChallengeStore`. The issue and resend
 * statements write the code's mail with the challenge (the outbox's `outboxInsert`), the
 * verify statement charges the failure budget and mints the proof token in the same
 * statement (`otp-shared-inserts.sql.ts`). Other stores compose `challengeEnded`.
 */

/** Challenge `c` can still be answered. */
const LIVE = `c.consumed_at IS NULL AND c.superseded_at IS NULL AND c.expires_at > now() AND c.attempts < c.max_attempts`;
/**
 * The same, re-checked under the row lock. Spelled with `coalesce` so the planner cannot
 * match the partial live index (it did, and scanned all of it, on tables without statistics
 * yet: 70 verifies/s in the bench instead of 700): the row is reached by primary key.
 */
const STILL_LIVE = `coalesce(c.consumed_at, c.superseded_at) IS NULL AND c.expires_at > now() AND c.attempts < c.max_attempts`;
/** Whether challenge `id` (an SQL expression) was consumed or superseded; NULL when there is none. */
export const challengeEnded = (id: string) =>
  `(SELECT c.consumed_at IS NOT NULL OR c.superseded_at IS NOT NULL FROM otp_challenges c WHERE c.id = ${id})`;

/**
 * Locks the challenges `c` matching `where` in the order of their address, then id: every batch statement
 * that writes several challenges takes their locks in this order whatever the order of its inputs (or of the
 * rows on disk), so two of them never wait on each other in a circle (a verify batch and an issue batch's
 * supersede deadlocked that way, until PostgreSQL's deadlock_timeout and a replay; test/lock-order.e2e-spec.ts).
 * `NO KEY UPDATE`, the lock the UPDATEs take: a stronger one would also block the outbox's foreign-key checks.
 */
const lockedInOrder = (where: string) => `SELECT c.id FROM otp_challenges c WHERE ${where} ORDER BY c.recipient_index, c.id FOR NO KEY UPDATE`;

/** The live challenges an issue batch supersedes: those of its (address, purpose) pairs. */
const SUPERSEDED = `c.recipient_index = ANY($2::text[]) AND c.purpose = ANY($3::text[]) AND c.consumed_at IS NULL AND c.superseded_at IS NULL
       AND EXISTS (SELECT 1 FROM input i WHERE i.recipient_index = c.recipient_index AND i.purpose = c.purpose)`;

/**
 * Issues a batch of challenges, each of another (address, purpose), one element of each array per
 * challenge: `$1` ids, `$2` addresses, `$3` purposes, `$4` context hashes, `$5` code digests, `$6`
 * sealed delivery details, `$7` max attempts, `$8` validity and `$9` resend cooldown seconds, `$10`
 * outbox ids and `$11` sealed mails. Per challenge, as one statement each would: supersedes the live
 * challenge of its pair, inserts the new one and its mail in the outbox. A challenge whose pair got a
 * live challenge from a concurrent statement meanwhile (the live index) is not inserted: its row
 * answers no times, and the caller tries it again (it then supersedes that one). The superseded rows are
 * locked first, in the order of their address (`lockedInOrder`), and new rows are written in the order of
 * (address, purpose); two issue batches can still deadlock (the supersede of one, the live-index check of
 * the other), and `GroupCommit` then writes the victim's issues again one by one.
 */
export const ISSUE_BATCH = `WITH input AS (
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
       $8::float8[], $9::float8[], $10::uuid[], $11::text[])
       WITH ORDINALITY AS i(id, recipient_index, purpose, context_hash, code_digest, delivery_ciphertext, max_attempts,
         ttl_seconds, cooldown_seconds, mail_id, mail_ciphertext, ord)
   ), locked AS (
     -- \`= ANY\` of the arrays themselves: the live index is searched for each address (a join with the
     -- input was planned as a walk of the whole live index, on a table without statistics yet).
     ${lockedInOrder(SUPERSEDED)}
   ), superseded AS (
     UPDATE otp_challenges c SET superseded_at = now(), delivery_ciphertext = NULL
     WHERE ${SUPERSEDED} AND (SELECT count(*) FROM locked) >= 0
     RETURNING c.id
   ), created AS (
     INSERT INTO otp_challenges (id, recipient_index, purpose, context_hash, code_digests,
       delivery_ciphertext, max_attempts, expires_at, resend_available_at)
     SELECT i.id, i.recipient_index, i.purpose, i.context_hash, ARRAY[i.code_digest], i.delivery_ciphertext, i.max_attempts,
       now() + make_interval(secs => i.ttl_seconds), now() + make_interval(secs => i.cooldown_seconds)
     FROM input i, (SELECT count(*) FROM superseded) AS s
     ORDER BY i.recipient_index, i.purpose
     ON CONFLICT (recipient_index, purpose) WHERE consumed_at IS NULL AND superseded_at IS NULL DO NOTHING
     RETURNING id, expires_at, resend_available_at
   ), mail AS (
     ${outboxInsert({ id: 'i.mail_id', challengeId: 'c.id', kind: `'code'`, purpose: 'i.purpose', recipientIndex: 'i.recipient_index',
    payloadCiphertext: 'i.mail_ciphertext', deadlineAt: 'c.expires_at' }, 'created c JOIN input i ON i.id = c.id')}
   )
   SELECT i.ord, c.expires_at, c.resend_available_at FROM input i LEFT JOIN created c ON c.id = i.id ORDER BY i.ord`;

const BUDGET: BudgetParams = { windowSeconds: '$5', maxFailures: '$6', afterFailures: '$7::int', baseSeconds: '$8::float8', maxSeconds: '$9::float8' };

/**
 * A candidate digest and the context of input `x` (columns ord, want_context) match challenge `c`: each
 * input has `$3` candidates, those of input k at `$2[(k - 1) * $3 + 1 : k * $3]`.
 */
const matchesOf = (x: string) => `c.code_digests && ($2::text[])[((${x}.ord - 1) * $3::int + 1)::int : (${x}.ord * $3::int)::int]
           AND c.context_hash IS NOT DISTINCT FROM ${x}.want_context`;

/**
 * The verify statement, for a batch of attempts on challenges of distinct addresses (group commit; one
 * attempt is a batch of one): `$1` challenge ids, `$2` their candidate digests, `$3` of them each
 * (`matchesOf`), `$4` context hashes, `$5`-`$9` the budget (window, max failures, delay threshold,
 * base and cap); with `minting`, `$10` token hashes, `$11` amr and `$12` ttl. Per attempt, as a
 * statement of its own would: passes the address's budget row under its lock, counts the attempt on the
 * challenge row under its lock and consumes it if a candidate matches, and writes its token. All its
 * challenge rows are locked first, in the order of their address (`lockedInOrder`, as an issue batch's
 * supersede locks them), then the budget rows in the same order: two verify batches, or a verify and an
 * issue batch, do not deadlock. A bulk statement (the delivery wipe, the purge) still can, and the victim
 * batch is then written again one attempt at a time (`GroupCommit`). Two attempts of one address in one batch (the caller
 * keys batches by address; an id without a tag could slip through) make the statement fail, and
 * `GroupCommit` writes them again one by one. One answer row per input, in their order.
 */
export function attemptSql(minting: boolean): string {
  const token = minting ? `, token AS (
         ${mintTokenOfConsumed({ hash: '($10::text[])[a.ord::int]', challengeId: 'a.id', amr: '$11', ttl: '$12' }, 'attempt')}
       )` : '';
  return `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $4::text[]) WITH ORDINALITY AS i(id, want_context, ord)
       ), locked AS (
         -- Only those still live: an attempt on an ended challenge writes nothing, and needs no lock.
         ${lockedInOrder(`c.id = ANY($1::uuid[]) AND ${STILL_LIVE}`)}
       ), target AS (
         SELECT i.ord, i.want_context, c.id, c.recipient_index, (${LIVE}) AS live, (${matchesOf('i')}) AS matches,
           ${budgetState(BUDGET)}
         -- Counted first: every challenge is locked, in order, before any budget row or update.
         FROM (SELECT count(*) FROM locked) AS l, input i JOIN otp_challenges c ON c.id = i.id
         ${budgetJoin(BUDGET, 'c.recipient_index')}
         -- \`= ANY\` of the array itself: each challenge is reached by primary key.
         WHERE c.id = ANY($1::uuid[])
       ), budget AS (
         ${passBudget(BUDGET, 'target')}
       ), attempt AS (
         UPDATE otp_challenges c SET attempts = c.attempts + 1,
           consumed_at = CASE WHEN ${matchesOf('t')} THEN now() END,
           delivery_ciphertext = CASE WHEN ${matchesOf('t')} THEN NULL ELSE c.delivery_ciphertext END
         FROM target t
         WHERE c.id = ANY($1::uuid[]) AND c.id = t.id AND t.live AND t.wait_seconds IS NULL
           AND EXISTS (SELECT 1 FROM budget bu WHERE bu.recipient_index = t.recipient_index)
           AND ${STILL_LIVE}
         RETURNING t.ord, c.id, c.purpose, c.context_hash, c.recipient_index, c.consumed_at, c.attempts, c.max_attempts
       )${token}
       SELECT (t.id IS NOT NULL) AS found,
         coalesce(t.live AND t.wait_seconds IS NULL
           AND NOT EXISTS (SELECT 1 FROM budget bu WHERE bu.recipient_index = t.recipient_index), false) AS refused_by_budget,
         t.wait_seconds, t.spent AS spent_before,
         (a.attempts IS NOT NULL) AS attempted,
         (SELECT bu.failures FROM budget bu WHERE bu.recipient_index = t.recipient_index) AS budget_failures,
         a.consumed_at, a.purpose, a.context_hash,
         coalesce(a.recipient_index, t.recipient_index) AS recipient_index, a.attempts, a.max_attempts
       FROM input i LEFT JOIN target t ON t.ord = i.ord LEFT JOIN attempt a ON a.ord = i.ord
       ORDER BY i.ord`;
}

export const ATTEMPT = attemptSql(false);
export const ATTEMPT_MINTING = attemptSql(true);

export const RESEND = `WITH target AS (
     SELECT c.id, c.purpose, (${LIVE} AND c.resends < $5) AS live,
       greatest(0, ceil(extract(epoch FROM c.resend_available_at - now())))::int AS wait_seconds
     FROM otp_challenges c WHERE c.id = $1
   ), resent AS (
     UPDATE otp_challenges c SET
       code_digests = (c.code_digests || u.digest)[greatest(1, cardinality(c.code_digests) + 2 - $4):],
       resends = c.resends + 1,
       resend_available_at = now() + make_interval(secs => $6)
     FROM target t, unnest($2::text[], $3::text[]) AS u(purpose, digest)
     WHERE c.id = $1 AND c.id = t.id AND u.purpose = c.purpose AND t.live AND t.wait_seconds = 0
       AND ${STILL_LIVE} AND c.resends < $5 AND c.resend_available_at <= now()
     RETURNING c.id, c.purpose, c.recipient_index, c.delivery_ciphertext, c.expires_at, c.resend_available_at
   ), mail AS (
     ${outboxInsert({ id: '$7', challengeId: 'r.id', kind: `'code'`, purpose: 'r.purpose', recipientIndex: 'r.recipient_index',
    payloadCiphertext: '$8', deadlineAt: 'r.expires_at' }, 'resent r')}
   )
   SELECT (t.id IS NOT NULL) AS found, coalesce(t.live, false) AS live,
     coalesce(t.wait_seconds, 0) AS wait_seconds, (r.expires_at IS NOT NULL) AS resent,
     t.purpose, r.delivery_ciphertext, r.expires_at, r.resend_available_at
   FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN resent r ON true`;

export const SUBJECT = `SELECT recipient_index, purpose FROM otp_challenges WHERE id = $1`;

export const DELIVERY = `SELECT purpose, recipient_index, delivery_ciphertext FROM otp_challenges WHERE id = $1`;

export const SUPERSEDE_ALL_LIVE = `UPDATE otp_challenges SET superseded_at = now(), delivery_ciphertext = NULL
   WHERE consumed_at IS NULL AND superseded_at IS NULL`;

export const PURGE_ENDED = `DELETE FROM otp_challenges
   WHERE LEAST(COALESCE(consumed_at, 'infinity'), COALESCE(superseded_at, 'infinity'), expires_at) < now() - make_interval(secs => $1)`;

export const WIPE_OLD_DELIVERIES = `UPDATE otp_challenges SET delivery_ciphertext = NULL
   WHERE delivery_ciphertext IS NOT NULL AND created_at < now() - make_interval(secs => $1)`;
