import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { canonicalEmail, OtpEmailInvalidError, OtpEventBus, OtpService, OtpSignInNotifier, RedeemedOtpProof } from 'nestjs-email-otp';
import { CurrentPasswordRequiredError, InvalidCredentialsError, PasswordRequiredError } from '../common/app-errors';
import { AccountRow, AccountsStore } from './accounts.store';
import { PasswordHasher } from './password-hasher';
import { SignInClient } from './sign-in-client';

/** How long a session lasts. */
export const SESSION_TTL_SECONDS = 8 * 3600;
const SESSION_SHAPE = /^ses_[A-Za-z0-9_-]{43}$/;

export interface IssuedSession {
  sessionToken: string;
  expiresAt: Date;
}

/** The signed-in account as guards see it. */
export interface CurrentAccount {
  id: string;
  email: string;
  hasPassword: boolean;
  createdAt: Date;
  /** How this session was authenticated, e.g. `['pwd', 'otp_email']`. */
  amr: string[];
  sessionExpiresAt: Date;
  sessionTokenHash: string;
}

/** Session tokens are 256 random bits: an unkeyed SHA-256 is a safe way to store them. */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function newSessionToken(): string {
  return 'ses_' + randomBytes(32).toString('base64url');
}

/**
 * Accounts of the example app. Sign-in rules: an email code alone signs in an
 * account without a password (creating it on first use); an account with a
 * password needs the password and a code (R16). Every sign-in is reported to the
 * OTP module's `OtpSignInNotifier`, which mails the address about a new device (R19).
 */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger('Accounts');

  constructor(
    private readonly store: AccountsStore,
    private readonly otp: OtpService,
    private readonly notifier: OtpSignInNotifier,
    private readonly hasher: PasswordHasher,
    private readonly events: OtpEventBus,
  ) {}

  /** Passwordless sign-in; the guard already checked the proof was mailed to `email`. */
  async signInWithCode(email: string, proof: RedeemedOtpProof, client: SignInClient = {}): Promise<IssuedSession> {
    this.assertProofFor(email, proof);
    // One round trip: the account and, while it has no password (R16), its session.
    const sessionToken = newSessionToken();
    const { account, expiresAt } = await this.store.findOrCreateWithCodeSession(
      randomUUID(), canonicalEmail(email), sessionTokenHash(sessionToken), [...proof.amr], SESSION_TTL_SECONDS,
    );
    if (account.passwordHash !== null || !expiresAt) throw new PasswordRequiredError();
    return this.reported(email, client, { sessionToken, expiresAt });
  }

  /** Password (first factor) plus an email code (second factor). */
  async signInWithPassword(email: string, password: string, proof: RedeemedOtpProof, client: SignInClient = {}): Promise<IssuedSession> {
    this.assertProofFor(email, proof);
    const account = await this.store.findByEmail(canonicalEmail(email));
    const ok = await this.hasher.verify(password, account?.passwordHash ?? null);
    if (!account || !ok) throw new InvalidCredentialsError();
    return this.reported(email, client, await this.openSession(account, ['pwd', ...proof.amr]));
  }

  /** Sets the first password, or changes it given the current one; other sessions end. */
  async setPassword(current: CurrentAccount, password: string, currentPassword?: string): Promise<void> {
    const account = await this.store.findByEmail(current.email);
    if (!account) throw new InvalidCredentialsError();
    if (account.passwordHash !== null) {
      if (currentPassword === undefined) throw new CurrentPasswordRequiredError();
      if (!(await this.hasher.verify(currentPassword, account.passwordHash))) {
        this.passwordChangeFailed(current, { reason: 'wrong_password' });
        throw new InvalidCredentialsError();
      }
    }
    // Conditional on the hash just checked: a password set concurrently is never overwritten without its proof.
    const changed = await this.store.replacePasswordEndingOtherSessions(
      account.id, account.passwordHash, await this.hasher.hash(password), current.sessionTokenHash,
    );
    if (!changed) throw new CurrentPasswordRequiredError();
  }

  /**
   * A refused password change goes to the audit trail as `password.change_failed`, the
   * account's blind index as subject (the request context adds IP, user agent, request id).
   */
  passwordChangeFailed(current: CurrentAccount, detail: { reason: string; throttler?: string }): void {
    let recipientIndex: string | undefined;
    try {
      recipientIndex = this.otp.recipientIndex(current.email);
    } catch (err) {
      // An account stored before addresses were canonicalised: the event still goes out, without a subject.
      if (!(err instanceof OtpEmailInvalidError)) throw err;
    }
    this.events.emit({ name: 'password.change_failed', outcome: 'failure', recipientIndex, detail });
  }

  async signOut(current: CurrentAccount): Promise<void> {
    await this.store.revokeSession(current.sessionTokenHash);
  }

  /** The account behind a bearer session token, or null. */
  async authenticate(sessionToken: string): Promise<CurrentAccount | null> {
    if (!SESSION_SHAPE.test(sessionToken)) return null;
    const hash = sessionTokenHash(sessionToken);
    const session = await this.store.findLiveSession(hash);
    if (!session) return null;
    const a = session.account;
    return {
      id: a.id, email: a.email, hasPassword: a.passwordHash !== null, createdAt: a.createdAt,
      amr: session.amr, sessionExpiresAt: session.expiresAt, sessionTokenHash: hash,
    };
  }

  /** Defence in depth: the route's guard binds the proof to `email` already. */
  private assertProofFor(email: string, proof: RedeemedOtpProof): void {
    if (proof.purpose !== 'login' || proof.recipientIndex !== this.otp.recipientIndex(email)) throw new InvalidCredentialsError();
  }

  /**
   * Tells the OTP module about the sign-in once the session exists. A failure to record it
   * (the database) is logged and does not undo the sign-in: availability over the notice.
   */
  private async reported(email: string, client: SignInClient, session: IssuedSession): Promise<IssuedSession> {
    try {
      await this.notifier.signedIn({ email, ip: client.ip, userAgent: client.userAgent, locale: client.locale });
    } catch (err) {
      this.logger.error(`recording the sign-in for new-device notices failed: ${(err as Error).name}`);
    }
    return session;
  }

  private async openSession(account: AccountRow, amr: string[]): Promise<IssuedSession> {
    const sessionToken = newSessionToken();
    const opened = await this.store.insertSession(sessionTokenHash(sessionToken), account.id, amr, SESSION_TTL_SECONDS, account.passwordHash);
    if (!opened) throw account.passwordHash === null ? new PasswordRequiredError() : new InvalidCredentialsError();
    return { sessionToken, expiresAt: opened.expiresAt };
  }
}
