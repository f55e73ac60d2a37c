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

/** A lint in test form: the patterns an OTP module must never ship. */
describe('source hygiene', () => {
  const sources = filesUnder(join(root, 'src'), /\.ts$/).filter((f) => !f.endsWith('.spec.ts'));

  it.each([
    ['R22: Math.random', /Math\.random/],
    ['R2: rejectUnauthorized: false', /rejectUnauthorized\s*:\s*false/],
    ['R31: ignoreTLS / opportunisticTLS', /(ignoreTLS|opportunisticTLS)\s*:\s*true/],
    ['synchronize: true', /synchronize\s*:\s*true/],
  ])('%s appears nowhere in src', (_name, pattern) => {
    expect(sources.length).toBeGreaterThan(10);
    const offenders = sources.filter((f) => pattern.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('R36: templates never use unescaped {{{ }}} output', () => {
    const templates = filesUnder(join(root, 'templates'), /\.(hbs|handlebars)$/);
    expect(templates.filter((f) => readFileSync(f, 'utf8').includes('{{{'))).toEqual([]);
  });
});
