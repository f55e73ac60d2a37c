import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { defaultTemplatesDir } from './default-templates-dir';
import { fieldString } from './otp-mail.field-string';

type Mode = 'html' | 'text';
/** As the renderer compiles a string: a private instance, strict, escaped in HTML only. */
const handlebars = (source: string, mode: Mode) => Handlebars.create().compile(source, { strict: true, noEscape: mode === 'text' });
const MODES: Mode[] = ['html', 'text'];

/** Every string of every shipped locale file. */
const shipped: string[] = readdirSync(join(defaultTemplatesDir(), 'locales'))
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => Object.values(JSON.parse(readFileSync(join(defaultTemplatesDir(), 'locales', f), 'utf8')) as Record<string, Record<string, string>>))
  .flatMap((group) => Object.values(group))
  .filter((s) => s.includes('{{'));

/** Every field a shipped string names. */
const FIELDS = [...new Set(shipped.flatMap((s) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])))];
const hostile = `<script>alert("x")</script> & 'q' \`b\` a=b`;
const contexts: Record<string, unknown>[] = [
  Object.fromEntries(FIELDS.map((f) => [f, hostile])),
  Object.fromEntries(FIELDS.map((f, i) => [f, i % 2 ? `Plain ${f}` : i])),
  Object.fromEntries(FIELDS.map((f) => [f, 0])),
  Object.fromEntries(FIELDS.map((f) => [f, ''])),
];

/** What rendering gave, or the error it threw. */
const outcome = (render: () => string) => {
  try {
    return { out: render() };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

describe('fieldString: localised strings with plain fields, without the handlebars runtime', () => {
  it('takes every shipped string that has placeholders (they are all plain fields)', () => {
    expect(shipped.length).toBeGreaterThan(20);
    for (const source of shipped) for (const mode of MODES) expect(fieldString(source, mode, handlebars(source, mode))).toBeDefined();
  });

  it('R21: renders every shipped string exactly as handlebars does, hostile values escaped in HTML and kept in text', () => {
    for (const source of shipped) {
      for (const mode of MODES) {
        const full = handlebars(source, mode);
        const fast = fieldString(source, mode, full)!;
        for (const context of contexts) expect(outcome(() => fast(context))).toEqual({ out: full(context) });
      }
    }
    const html = fieldString('From {{ip}}.', 'html', handlebars('From {{ip}}.', 'html'))!;
    expect(html({ ip: hostile })).not.toContain('<script>');
  });

  it('leaves a missing field, an inherited one and values that are not text or numbers to handlebars (strict mode throws as before)', () => {
    const source = 'Hello {{name}}, from {{ip}}.';
    for (const mode of MODES) {
      const full = handlebars(source, mode);
      const fast = fieldString(source, mode, full)!;
      for (const context of [{ ip: '1.2.3.4' }, { name: 'a' }, Object.create({ name: 'inherited', ip: 'x' }), { name: null, ip: 'x' },
        { name: undefined, ip: 'x' }, { name: true, ip: 'x' }, { name: ['a', '<b>'], ip: 'x' }, { name: { toString: () => '<o>' }, ip: 'x' }]) {
        expect(outcome(() => fast(context))).toEqual(outcome(() => full(context)));
      }
      expect(outcome(() => fast({ ip: '1.2.3.4' })).error).toMatch(/"name" not defined/);
    }
  });

  it.each([
    'Hi {{#if name}}{{name}}{{/if}}', 'Hi {{user.name}}', 'Hi {{../name}}', 'Hi {{! note }}{{name}}', 'Hi \\{{name}}', 'Hi {{> part}}',
    'Hi {{lookup . "name"}}', 'Hi {{this}}', 'Hi {{name "x"}}', 'Hi {{~name~}}', 'Hi {{true}}', 'Hi }} {{name}}', 'no placeholder',
  ])('leaves %j to handlebars', (source) => {
    for (const mode of MODES) expect(fieldString(source, mode, () => '')).toBeUndefined();
  });
});
