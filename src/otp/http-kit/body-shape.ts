import { BadRequestException } from '@nestjs/common';

/**
 * Own keys that name an object's prototype machinery. class-transformer skips
 * `__proto__` and `constructor` silently at the top and throws on them deeper
 * (a 500); a validator reading `value.constructor` is misled. None is a field
 * of any body, so they are refused like other unknown fields.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** In a `u` regexp a surrogate class matches only a surrogate that is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * What is wrong with a parsed body before any validator sees it, or `undefined`:
 * nesting deeper than `maxDepth`, an own `__proto__`/`constructor`/`prototype`
 * key at any depth, or a lone UTF-16 surrogate in any key or string (the email
 * validator's `encodeURI` throws on one, and hashing would turn it into U+FFFD,
 * so two different strings would share one blind index). Iterative, so a deep
 * body cannot overflow the stack here either.
 */
export function bodyProblem(value: unknown, maxDepth = Number.POSITIVE_INFINITY): BadRequestException | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return invalid(`${path || 'body'} must be well-formed Unicode (no lone surrogates)`);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return new BadRequestException({ error: 'validation_failed', message: 'The request body is nested too deeply.' });
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (RESERVED_KEYS.has(key)) return invalid(`property ${at} should not exist`);
      if (LONE_SURROGATE.test(key)) return invalid(`${path || 'body'} has a key that is not well-formed Unicode (no lone surrogates)`);
      stack.push([(v as Record<string, unknown>)[key], depth + 1, at]);
    }
  }
  return undefined;
}

/** The shape of the validation pipe's answers: `validation_failed` with the detail. */
function invalid(detail: string): BadRequestException {
  return new BadRequestException({ error: 'validation_failed', message: 'The request is not valid.', details: [detail] });
}
