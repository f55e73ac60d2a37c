import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
});
