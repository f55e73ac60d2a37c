import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './test-services';

export type PgShutdownMode = 'smart' | 'fast' | 'immediate';

const INSTALL_HINT =
  'install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; elsewhere the distribution\'s PostgreSQL ' +
  'server package) so that `pg_config --bindir` or /usr/lib/postgresql/<version>/bin holds initdb, pg_ctl and postgres';

/** The directory of initdb/pg_ctl/postgres: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on PATH: try the Debian layout below
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  const found = candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((f) => existsSync(join(dir, f))));
  if (!found) throw new Error(`PostgreSQL server binaries not found (looked in: ${candidates.join(', ') || 'nothing'}): ${INSTALL_HINT}`);
  return found;
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` system user. */
function osUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root, a private PostgreSQL needs the 'postgres' system user to run as: ${INSTALL_HINT}`);
  }
}

/**
 * A PostgreSQL cluster of the test's own, in a fresh temp directory: listens on
 * 127.0.0.1 only, on a free port, with its unix socket in that directory, trust
 * auth for local and 127.0.0.1 only. Unlike the machine's shared server, a test
 * may stop, restart or crash it. `destroy()` stops it and removes the directory.
 *
 * Runs with `fsync` and `synchronous_commit` on, as production does, so a
 * crash-style restart also pays the real start-up cost (it fsyncs the data
 * directory before replaying the WAL: about 3 s instead of 0.4 s here). Turning
 * fsync off would still be honest for a process crash (commits write their WAL
 * to the kernel before they answer, and the page cache outlives the processes),
 * but the outage would shrink to a few requests and test less.
 */
export class PrivatePostgres {
  readonly dir: string;
  private readonly dataDir: string;
  private readonly logFile: string;
  private readonly owner?: { uid: number; gid: number };
  private portNumber = 0;
  private readonly exitGuard = () => this.stopSync();

  private constructor(readonly binDir: string) {
    this.owner = osUserIds();
    this.dir = mkdtempSync(join(tmpdir(), 'otp-pg-'));
    this.dataDir = join(this.dir, 'data');
    this.logFile = join(this.dir, 'server.log');
    if (this.owner) chownSync(this.dir, this.owner.uid, this.owner.gid);
  }

  /** initdb into a new temp directory and start the server; removes the directory again if that fails. */
  static async create(): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(findPostgresBinDir());
    try {
      await pg.initdb();
      await pg.start();
      process.once('exit', pg.exitGuard);
      return pg;
    } catch (err) {
      await pg.destroy();
      throw err;
    }
  }

  get port(): number {
    return this.portNumber;
  }

  /** The superuser's URL (trust auth) on the `postgres` database. */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.portNumber}/postgres`;
  }

  /** The server log so far (it is appended to across restarts). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  async start(): Promise<void> {
    // The port was free a moment ago; if another process took it meanwhile, take another one.
    for (let attempt = 1; ; attempt++) {
      const logBefore = this.log().length;
      try {
        await this.pgCtl(['start', '-o', `-p ${this.portNumber}`]);
        return;
      } catch (err) {
        if (attempt >= 3 || !/could not (bind|create listen)/i.test(this.log().slice(logBefore))) throw err;
        this.portNumber = await freePort();
      }
    }
  }

  async stop(mode: PgShutdownMode = 'fast'): Promise<void> {
    await this.pgCtl(['stop', '-m', mode]);
  }

  /**
   * `fast`: sessions are ended, a shutdown checkpoint is written, the server starts again.
   * `immediate`: every server process quits at once with no checkpoint, like a crash; the
   * start replays the WAL (crash recovery). Resolves once the server accepts connections again.
   */
  async restart(mode: 'fast' | 'immediate'): Promise<void> {
    await this.pgCtl(['restart', '-m', mode]);
  }

  /** Stops the server (immediately: its data is thrown away) and removes the directory. Safe to call twice. */
  async destroy(): Promise<void> {
    process.removeListener('exit', this.exitGuard);
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
      await this.pgCtl(['stop', '-m', 'immediate']).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async initdb(): Promise<void> {
    this.portNumber = await freePort();
    await this.run(join(this.binDir, 'initdb'), [
      '-D', this.dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=trust',
      '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    appendFileSync(join(this.dataDir, 'postgresql.conf'), [
      '', '# private test cluster (test/support/private-postgres.ts)',
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${this.dir}'`,
      'shared_buffers = 16MB',
      'max_connections = 40',
      // A 202 promises the row survives a crash: commits reach the WAL before they answer.
      'fsync = on',
      'synchronous_commit = on',
      `lc_messages = 'C'`,
      '',
    ].join('\n'));
    // Overwrites initdb's file, keeping its owner: no ::1, no replication entries.
    writeFileSync(join(this.dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  }

  private pgCtl(args: string[]): Promise<string> {
    return this.run(join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '30', ...args]);
  }

  /** Runs a server binary (as `postgres` when we are root) without blocking the event loop: the app keeps serving meanwhile. */
  private run(file: string, args: string[]): Promise<string> {
    const [cmd, argv] = this.owner ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    return new Promise((resolve, reject) => {
      execFile(cmd, argv, { cwd: this.dir, env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const tail = this.log().split('\n').slice(-15).join('\n');
        reject(new Error(`${file.split('/').pop()} ${args.join(' ')} failed: ${err.message}\n${stderr}\nserver log tail:\n${tail}`));
      });
    });
  }

  /** Last resort when the test process exits without destroy(): never leave a server running. */
  private stopSync(): void {
    try {
      const pgCtl = join(this.binDir, 'pg_ctl');
      const args = ['-D', this.dataDir, 'stop', '-m', 'immediate'];
      if (this.owner) execFileSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args], { cwd: this.dir, stdio: 'ignore' });
      else execFileSync(pgCtl, args, { cwd: this.dir, stdio: 'ignore' });
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
