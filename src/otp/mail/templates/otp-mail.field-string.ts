import Handlebars from 'handlebars';

/** A placeholder handlebars resolves as a plain field of the context: `{{name}}`, spaces allowed. */
const FIELD = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** Names a `{{name}}` would not read from the context: handlebars' own helpers and literals. */
const NOT_FIELDS = new Set(['helperMissing', 'blockHelperMissing', 'each', 'if', 'unless', 'log', 'lookup', 'with', 'this', 'true', 'false', 'null', 'undefined']);

/**
 * A localised string whose only placeholders are plain fields (`It is valid for {{validityMinutes}} minutes`),
 * rendered without the handlebars runtime: each call of a compiled template copies the helpers and
 * builds its prototype guards first, which cost more than the substitution for a mail's ten strings
 * in two modes. Same output: the text around the fields as written, each field escaped as handlebars
 * escapes it (`html`) or printed as it is (`text`). Anything else, a missing field (strict mode
 * throws) or a value that is neither text nor a number, is left to `full`, the handlebars template
 * of the same source. Undefined when the string has any other syntax (helpers, paths, comments,
 * escapes, blocks, partials): handlebars renders those.
 */
export function fieldString(source: string, mode: 'html' | 'text', full: HandlebarsTemplateDelegate): ((context: object) => string) | undefined {
  const literals: string[] = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of source.matchAll(FIELD)) {
    literals.push(source.slice(last, m.index));
    fields.push(m[1]);
    last = m.index + m[0].length;
  }
  literals.push(source.slice(last));
  if (fields.length === 0 || fields.some((f) => NOT_FIELDS.has(f))) return undefined;
  if (literals.some((l) => l.includes('{{') || l.includes('}}') || l.includes('\\'))) return undefined;
  return (context: object) => {
    const values = context as Record<string, unknown>;
    let out = literals[0];
    for (let i = 0; i < fields.length; i++) {
      const v = Object.hasOwn(values, fields[i]) ? values[fields[i]] : undefined;
      if (typeof v !== 'string' && typeof v !== 'number') return full(context);
      out += (mode === 'html' ? Handlebars.Utils.escapeExpression(String(v)) : String(v)) + literals[i + 1];
    }
    return out;
  };
}
