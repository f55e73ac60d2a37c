/**
 * A requested language tag as `Intl` accepts it, or undefined. Tags reach mail from
 * requests (the issue body, `Accept-Language`); a tag that matches a loose BCP 47
 * pattern can still make `Intl` throw (`en_US`, `de-1996-1996`, `en-US-US`), and a
 * mail that cannot be composed would be retried until its deadline and never sent,
 * a way to silence security notices. So tags are checked here, once, where they enter.
 */
export function safeLocale(tag: string | undefined): string | undefined {
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > 35) return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical;
  } catch {
    return undefined;
  }
}
