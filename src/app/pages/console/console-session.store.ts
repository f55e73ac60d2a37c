import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONSOLE_SETTINGS, ConsoleSettings } from './console.settings';

/** A signed-in console session. */
export interface ConsoleSession {
  /** Synchronizer token every state-changing request of this session must carry (`X-CSRF-Token`). */
  csrfToken: string;
  expiresAt: number;
}

/** The most sessions held at once; signing in past it ends the oldest (only token holders create them). */
const MAX_SESSIONS = 100;

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Equal strings, compared in constant time (both sides hashed first, so lengths leak nothing). */
export function constantTimeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/**
 * Server-side console sessions, in this process's memory: the cookie holds a random id only,
 * and the map is keyed by its digest. A restart signs every operator out.
 */
@Injectable()
export class ConsoleSessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  /** The clock (ms); tests move it to see sessions expire. */
  now: () => number = () => Date.now();

  constructor(@Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings) {}

  /** A new session; returns its id (for the cookie only) and the session. */
  create(): { id: string; session: ConsoleSession } {
    this.dropExpired();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const session = { csrfToken: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.settings.sessionSeconds * 1000 };
    this.sessions.set(this.key(id), session);
    return { id, session };
  }

  /** The live session of an id, if any (an expired one is dropped). */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const key = this.key(id);
    const session = this.sessions.get(key);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session;
  }

  /** The first of `ids` that names a live session (a planted cookie beside it is skipped). */
  live(ids: readonly string[]): { id: string; session: ConsoleSession } | undefined {
    for (const id of ids) {
      const session = this.get(id);
      if (session) return { id, session };
    }
    return undefined;
  }

  revoke(id: string | undefined): void {
    if (id) this.sessions.delete(this.key(id));
  }

  private key(id: string): string {
    return sha256(id).toString('base64url');
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [key, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(key);
  }
}
