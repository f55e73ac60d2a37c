import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupCommit } from 'nestjs-email-otp';

export interface AccountRow {
  id: string;
  email: string;
  passwordHash: string | null;
  createdAt: Date;
}

export interface SessionRow {
  account: AccountRow;
  amr: string[];
  expiresAt: Date;
}

interface CodeSignIn {
  id: string;
  email: string;
  tokenHash: string;
  amr: string[];
  ttlSeconds: number;
}

/** Code sign-in statements in flight at once per process (group commit). */
export const CODE_SIGN_IN_STATEMENTS_IN_FLIGHT = 1;
/** Code sign-ins one statement takes at most. */
export const CODE_SIGN_IN_BATCH_MAX = 64;

/**
 * Code-only sign-ins of distinct addresses (`$2`, canonical), one answer row per input in their
 * order: the account of each (`$1` its id if new) and, while it has no password, a session
 * (`$3` token hash, `$4` methods, `$5` lifetime in seconds). The upserts go in address order,
 * so two statements lock the rows of the addresses they share in one order.
 */
export const CODE_SIGN_IN_BATCH = `WITH input AS (
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS i(id, email, token_hash, ord)
   ), account AS (
     INSERT INTO accounts (id, email) SELECT i.id, i.email FROM input i ORDER BY i.email
     ON CONFLICT (email) DO UPDATE SET password_set_at = accounts.password_set_at
     RETURNING id, email, password_hash, password_set_at, created_at
   ), session AS (
     INSERT INTO account_sessions (token_hash, account_id, amr, expires_at, password_set_at)
     SELECT i.token_hash, a.id, $4::text[], now() + make_interval(secs => $5), a.password_set_at
     FROM input i JOIN account a ON a.email = i.email WHERE a.password_hash IS NULL
     RETURNING token_hash, expires_at
   )
   SELECT a.id, a.email, a.password_hash, a.created_at, s.expires_at AS session_expires_at
   FROM input i JOIN account a ON a.email = i.email LEFT JOIN session s ON s.token_hash = i.token_hash
   ORDER BY i.ord`;

function toAccount(r: Record<string, unknown>): AccountRow {
  return { id: String(r.id), email: String(r.email), passwordHash: (r.password_hash as string | null) ?? null, createdAt: new Date(r.created_at as string) };
}

/**
 * Queries on accounts and sessions; one statement per method (no multi-statement
 * transactions, which the embedded PGlite session could not isolate).
 */
@Injectable()
export class AccountsStore {
  private readonly codeSignIns = new GroupCommit<CodeSignIn, { account: AccountRow; expiresAt: Date | null }>({
    slots: CODE_SIGN_IN_STATEMENTS_IN_FLIGHT,
    maxBatch: CODE_SIGN_IN_BATCH_MAX,
    // One address once per statement: an upsert cannot affect one row twice.
    keyOf: (s) => s.email,
    // The statement takes the methods and the lifetime once.
    settingsOf: (s) => JSON.stringify([s.amr, s.ttlSeconds]),
    write: (batch) => this.codeSignInBatch(batch),
  });

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The account of a canonical address, created if it does not exist yet (race-free through the unique index). */
  async findOrCreate(id: string, email: string): Promise<AccountRow> {
    // DO UPDATE (a no-op) rather than DO NOTHING: it returns the row even when a concurrent sign-in created it.
    // It sets a column outside every unique index, so the row lock is FOR NO KEY UPDATE: it still waits for a
    // password change, and does not block the foreign-key checks of the account's sessions and transfers.
    const [row] = await this.db.query(
      `INSERT INTO accounts (id, email) VALUES ($1, $2)
       ON CONFLICT (email) DO UPDATE SET password_set_at = accounts.password_set_at
       RETURNING id, email, password_hash, created_at`,
      [id, email],
    );
    return toAccount(row);
  }

  /**
   * A code-only sign-in: the account of a canonical address (created if new, as
   * `findOrCreate`), and a session for it only while it has no password (R16). The upsert
   * locks the account row and reads its latest version, so a first password committed before
   * it is seen, and one that waits for this statement ends the session it opened (the session
   * records the account's `password_set_at`, see `findLiveSession`): never a live code-only session
   * on an account with a password. `expiresAt` is null when the session was not opened.
   * Sign-ins go by group commit (`GroupCommit`, see `CODE_SIGN_IN_BATCH`): one that finds a
   * statement slot free goes at once, those arriving while it is out go together.
   */
  findOrCreateWithCodeSession(id: string, email: string, tokenHash: string, amr: string[], ttlSeconds: number):
    Promise<{ account: AccountRow; expiresAt: Date | null }> {
    return this.codeSignIns.run({ id, email, tokenHash, amr, ttlSeconds });
  }

  private async codeSignInBatch(batch: CodeSignIn[]): Promise<{ account: AccountRow; expiresAt: Date | null }[]> {
    const rows: Record<string, unknown>[] = await this.db.query(CODE_SIGN_IN_BATCH, [
      batch.map((s) => s.id), batch.map((s) => s.email), batch.map((s) => s.tokenHash), batch[0].amr, batch[0].ttlSeconds,
    ]);
    return rows.map((row) => ({ account: toAccount(row), expiresAt: row.session_expires_at ? new Date(row.session_expires_at as string) : null }));
  }

  async findByEmail(email: string): Promise<AccountRow | null> {
    const [row] = await this.db.query(`SELECT id, email, password_hash, created_at FROM accounts WHERE email = $1`, [email]);
    return row ? toAccount(row) : null;
  }

  /**
   * Replaces the password hash only if it is still `expectedHash` (null: no
   * password yet), and ends the account's other sessions, in one statement; false
   * when a concurrent change got there first. The session that made the change is moved to the new
   * password (`password_set_at`); every other one, also one that a sign-in committed while this statement
   * waited for the account row (its revocation reads its own snapshot and misses it), is no longer live.
   */
  async replacePasswordEndingOtherSessions(
    accountId: string, expectedHash: string | null, passwordHash: string, keepTokenHash: string,
  ): Promise<boolean> {
    const [row] = await this.db.query(
      `WITH changed AS (
         UPDATE accounts SET password_hash = $2, password_set_at = now()
         WHERE id = $1 AND password_hash IS NOT DISTINCT FROM $4::text RETURNING id, password_set_at
       ), ended AS (
         UPDATE account_sessions s SET revoked_at = now()
         FROM changed c WHERE s.account_id = c.id AND s.token_hash <> $3 AND s.revoked_at IS NULL
         RETURNING 1
       ), kept AS (
         UPDATE account_sessions s SET password_set_at = c.password_set_at
         FROM changed c WHERE s.account_id = c.id AND s.token_hash = $3
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM changed)::int AS changed, (SELECT count(*) FROM ended)::int AS ended`,
      [accountId, passwordHash, keepTokenHash, expectedHash],
    );
    return row.changed === 1;
  }

  /**
   * Opens a session only while the account's password is still the one the sign-in
   * checked (`expectedPasswordHash`, NULL for a code-only sign-in): a first password
   * committed meanwhile makes an email-code-only sign-in fail (R16). Null when refused.
   */
  async insertSession(tokenHash: string, accountId: string, amr: string[], ttlSeconds: number,
    expectedPasswordHash: string | null): Promise<{ expiresAt: Date } | null> {
    const [row] = await this.db.query(
      `INSERT INTO account_sessions (token_hash, account_id, amr, expires_at, password_set_at)
       SELECT $1, a.id, $3::text[], now() + make_interval(secs => $4), a.password_set_at
       FROM accounts a WHERE a.id = $2 AND a.password_hash IS NOT DISTINCT FROM $5::text
       RETURNING expires_at`,
      [tokenHash, accountId, amr, ttlSeconds, expectedPasswordHash],
    );
    return row ? { expiresAt: new Date(row.expires_at) } : null;
  }

  /**
   * A live session with its account: unexpired, unrevoked, and opened under the account's current
   * password (`password_set_at`, null for none), so a password change ends every session it did not keep (R16).
   */
  async findLiveSession(tokenHash: string): Promise<SessionRow | null> {
    const [row] = await this.db.query(
      `SELECT a.id, a.email, a.password_hash, a.created_at, s.amr, s.expires_at
       FROM account_sessions s JOIN accounts a ON a.id = s.account_id
       WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
         AND s.password_set_at IS NOT DISTINCT FROM a.password_set_at`,
      [tokenHash],
    );
    return row ? { account: toAccount(row), amr: row.amr, expiresAt: new Date(row.expires_at) } : null;
  }

  async revokeSession(tokenHash: string): Promise<void> {
    await this.db.query(`UPDATE account_sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash]);
  }
}
