/** Locale tags an `Accept-Language` header asks for, best first (at most 8; `*` left out). */
export function requestedLocales(header: string | string[] | undefined): string[] {
  return (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .slice(0, 32)
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, index };
    })
    .filter((e) => e.q > 0 && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(e.tag))
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .slice(0, 8)
    .map((e) => e.tag);
}
