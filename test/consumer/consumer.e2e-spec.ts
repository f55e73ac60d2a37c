import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const exec = promisify(execFile);
const repo = resolve(__dirname, '../..');

/** Runs a command; resolves with its output and exit code (never throws on a non-zero exit). */
async function sh(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) {
  // The host sees no NODE_PATH and none of this repo's variables that could point back into it.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache, ...opts.env };
  try {
    const r = await exec(cmd, args, { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, timeout: opts.timeout ?? 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));

/** What must ship, derived from the sources: each non-spec .ts of the module and its migrations, compiled. */
function expectedFiles(): string[] {
  const compiled = [...walk(join(repo, 'src/otp')), ...readdirSync(join(repo, 'migrations')).map((f) => join(repo, 'migrations', f))]
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => `dist/${relative(repo, f).replace(/\.ts$/, '')}`)
    .flatMap((base) => [`${base}.js`, `${base}.d.ts`, `${base}.d.ts.map`]);
  const templates = walk(join(repo, 'templates')).map((f) => relative(repo, f));
  return [...compiled, ...templates, 'README.md', 'LICENSE', 'package.json'].sort();
}

describe('the package, as a host meets it', () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'otp-consumer-'));
    const built = await sh('npm', ['run', 'build:lib'], { cwd: repo });
    expect(built.stderr).not.toMatch(/error TS/);
    expect(built.code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('npm pack --dry-run ships exactly the compiled module, its migrations (d.ts and maps), templates, README, LICENSE and package.json', async () => {
    const out = await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo });
    expect(out.code).toBe(0);
    const files = (JSON.parse(out.stdout)[0].files as { path: string }[]).map((f) => f.path).sort();
    expect(files).toEqual(expectedFiles());
    expect(files.filter((f) => /\.spec\.|(^|\/)(app|bench|test|scripts)\//.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['dist/migrations/index.js', 'dist/src/otp/testing/index.d.ts', 'dist/src/otp/cli/bin.js']));
  });

  it('a fresh Nest 11 host installs the tarball and its peers, compiles (nodenext and commonjs), migrates with the bin and signs in on PostgreSQL and on PGlite', async () => {
    const pack = await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: repo });
    expect(pack.code).toBe(0);
    const tarball = join(work, JSON.parse(pack.stdout)[0].filename as string);
    const host = join(work, 'host');
    cpSync(join(repo, 'test/consumer/starter'), host, { recursive: true });

    const install = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: host, timeout: 300_000 });
    expect(install.stderr).not.toMatch(/ERR!/);
    expect(install.code).toBe(0);
    const installed = join(host, 'node_modules/nestjs-email-otp');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(realpathSync(installed).startsWith(realpathSync(host))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    // The installed module finds its own templates/ from any working directory (here: the temp root).
    const resolver = join(installed, 'dist/src/otp/mail/mail-options.js');
    const templates = await sh('node', ['-e', `console.log(require(${JSON.stringify(resolver)}).resolveOtpMailOptions({}, false).templatesDir)`], { cwd: work });
    expect(templates.stdout.trim()).toBe(join(installed, 'templates'));
    expect(existsSync(join(installed, 'templates/locales'))).toBe(true);

    const nodenext = await sh('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: host });
    expect(nodenext.stdout + nodenext.stderr).toBe('');
    const commonjs = await sh('npx', ['tsc', '-p', 'tsconfig.json', '--module', 'commonjs', '--moduleResolution', 'bundler', '--noEmit', '--incremental', 'false'], { cwd: host });
    expect(commonjs.stdout + commonjs.stderr).toBe('');

    const keys = await sh('npx', ['nestjs-email-otp', 'otp:keys', 'new'], { cwd: host });
    expect(keys.code).toBe(0);
    const keyEnv = Object.fromEntries(keys.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.keys(keyEnv)).toEqual(['OTP_KEYS', 'OTP_ENCRYPTION_KEYS']);

    const signIn = async (env: NodeJS.ProcessEnv) => {
      const run = await sh('node', ['dist/sign-in.e2e.js'], { cwd: host, env: { ...keyEnv, ...env }, timeout: 120_000 });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    };
    const expected = { issued: 202, verified: 200, first: 201, second: 401, secondBody: expect.objectContaining({ error: 'otp_required' }),
      firstBody: { challengeId: expect.any(String), amr: ['otp_email'] } };

    let db: TestDatabase | undefined;
    try {
      db = await createTestDatabase({ migrate: false });
      const migrate = await sh('npx', ['nestjs-email-otp', 'migration:run'], { cwd: host, env: { DATABASE_URL: db.url } });
      expect(migrate.stderr).toBe('');
      expect(migrate.code).toBe(0);
      const show = await sh('npx', ['nestjs-email-otp', 'migration:show'], { cwd: host, env: { DATABASE_URL: db.url } });
      expect(show.code).toBe(0);
      expect(show.stdout).not.toContain('[ ]');
      expect(await signIn({ DATABASE_URL: db.url })).toEqual(expected);
    } finally {
      await db?.drop();
    }
    expect(await signIn({})).toEqual(expected);
  }, 420_000);

  it('nest-cli.json is real: nest build compiles the example app', async () => {
    const out = await sh(join(repo, 'node_modules/.bin/nest'), ['build'], { cwd: repo, env: { PATH: process.env.PATH } });
    expect(out.stdout + out.stderr).not.toMatch(/error/i);
    expect(out.code).toBe(0);
    expect(existsSync(join(repo, 'dist/src/app/main.js'))).toBe(true);
  }, 180_000);
});
