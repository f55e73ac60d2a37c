import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, ext));
    else if (ext.test(name)) out.push(path);
  }
  return out;
}

/**
 * A lint in test form: the patterns an OTP module must never ship. The one suite that greps the
 * sources (the copies that lived in the Redis, mail-options and renderer suites are merged here).
 */
describe('source hygiene', () => {
  const sources = filesUnder(join(root, 'src'), /\.ts$/).filter((f) => !f.endsWith('.spec.ts'));
  const specs = filesUnder(join(root, 'src'), /\.spec\.ts$/);

  it.each([
    ['R22: Math.random', /Math\.random/],
    ['R2: rejectUnauthorized: false', /rejectUnauthorized\s*:\s*false/],
    ['R31: ignoreTLS / opportunisticTLS', /(ignoreTLS|opportunisticTLS)\s*:\s*true/],
    ['R28: a mail transport with debug or preview on', /(preview|debug)\s*:\s*true/],
    ['synchronize: true', /synchronize\s*:\s*true/],
  ])('%s appears nowhere in src', (_name, pattern) => {
    expect(sources.length).toBeGreaterThan(10);
    const offenders = sources.filter((f) => pattern.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('R2: no spec in src turns certificate checks off either', () => {
    expect(specs.length).toBeGreaterThan(10);
    expect(specs.filter((f) => /rejectUnauthorized\s*:\s*false/.test(readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('R36: no template or string prints unescaped ({{{ }}} or {{& }})', () => {
    const templates = filesUnder(join(root, 'templates'), /\.(hbs|handlebars|json)$/);
    expect(templates.length).toBeGreaterThan(10);
    expect(templates.filter((f) => /\{\{\{|\{\{~?\s*&/.test(readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('no file in src/otp is over 250 lines (a longer one is doing two jobs)', () => {
    const otp = sources.filter((f) => f.startsWith(join(root, 'src', 'otp')));
    expect(otp.length).toBeGreaterThan(50);
    const lines = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const long = otp.map((f) => `${relative(root, f)}: ${lines(readFileSync(f, 'utf8'))}`).filter((l) => Number(l.split(': ')[1]) > 250);
    expect(long).toEqual([]);
  });

  it('R30: payloads are sealed and opened only through crypto/sealed-json.ts (one home for AES-GCM JSON bound to a row)', () => {
    const home = join(root, 'src', 'otp', 'crypto');
    const offenders = sources
      .filter((f) => f !== join(home, 'sealed-json.ts') && f !== join(home, 'otp-cipher.ts'))
      .filter((f) => /\.(encrypt|decrypt)\(/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});

interface JscpdClone {
  format: string;
  firstFile: { name: string; start: number; end: number };
  secondFile: { name: string; start: number; end: number };
}

/** No rule written twice: jscpd (its defaults: 50 tokens) over src finds no clone pair. */
describe('copy-paste detector', () => {
  it('jscpd finds no clone in src', () => {
    const out = mkdtempSync(join(tmpdir(), 'otp-jscpd-'));
    try {
      const run = spawnSync(process.execPath, [require.resolve('jscpd/run-jscpd.js'), 'src', '--reporters', 'json', '--output', out, '--no-colors'], {
        cwd: root, encoding: 'utf8', timeout: 120_000,
      });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'jscpd-report.json'), 'utf8')) as { duplicates: JscpdClone[]; statistics: { total: { sources: number } } };
      expect(report.statistics.total.sources).toBeGreaterThan(100); // it really scanned the tree
      const pairs = report.duplicates.map((d) => `${d.firstFile.name}:${d.firstFile.start}-${d.firstFile.end} = ${d.secondFile.name}:${d.secondFile.start}-${d.secondFile.end}`);
      expect(pairs).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
