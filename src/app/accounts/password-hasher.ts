import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { OtpUnavailableError } from 'nestjs-email-otp';
import { ACCOUNTS_SETTINGS, AccountsSettings, PasswordHashingLimits } from './accounts.settings';

/** OWASP Password Storage Cheat Sheet minimum for scrypt: N=2^17, r=8, p=1 (128 MiB). */
const LOG2_N = 17;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MAX_LOG2_N = 20;

function derive(password: string, salt: Buffer, log2n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** log2n, r, p, maxmem: 256 * 2 ** log2n * r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

async function newHash(password: string, run: <T>(work: () => Promise<T>) => Promise<T>): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await run(() => derive(password, salt, LOG2_N, R, P));
  return ['scrypt', LOG2_N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * A counting semaphore with a bounded queue: at most `maxConcurrent` tasks run, at
 * most `maxQueued` wait (in arrival order), and any further task is refused at once
 * with `OtpUnavailableError` (503, Retry-After). Each scrypt derivation holds 128 MiB
 * and a libuv thread for a few hundred milliseconds: unbounded, a burst of requests
 * exhausts memory and starves every other use of the thread pool (DNS, files, crypto).
 */
export class ScryptGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limits: PasswordHashingLimits) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.maxConcurrent) {
      this.running++;
    } else if (this.waiting.length < this.limits.maxQueued) {
      // The finishing task hands its slot over: `running` stays the same.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      throw new OtpUnavailableError(1);
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** Password hashing of the example app: scrypt, with concurrent derivations capped by a `ScryptGate`. */
@Injectable()
export class PasswordHasher {
  readonly gate: ScryptGate;
  /** A hash of nothing anyone knows, so an unknown account costs the same time as a known one. */
  private decoy: Promise<string> | undefined;

  constructor(@Inject(ACCOUNTS_SETTINGS) settings: AccountsSettings) {
    this.gate = new ScryptGate(settings.passwordHashing);
  }

  /** A PHC-like string: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url). */
  hash(password: string): Promise<string> {
    return newHash(password, (work) => this.gate.run(work));
  }

  /** Compares in constant time; `stored` null (no account, no password) still spends a full derivation. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    // The decoy is made once, outside the gate: a refusal must not leave a rejected decoy behind.
    const hash = stored ?? (await (this.decoy ??= newHash(randomBytes(16).toString('hex'), (work) => work())));
    const [scheme, log2n, r, p, salt, expected] = hash.split('$');
    const n = Number(log2n);
    if (scheme !== 'scrypt' || !Number.isInteger(n) || n < 10 || n > MAX_LOG2_N || !salt || !expected) return false;
    const key = await this.gate.run(() => derive(password, Buffer.from(salt, 'base64url'), n, Number(r), Number(p)));
    const want = Buffer.from(expected, 'base64url');
    return key.length === want.length && timingSafeEqual(key, want) && stored !== null;
  }
}
