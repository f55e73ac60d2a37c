import { safeLocale } from './safe-locale';

describe('safeLocale: language tags from requests', () => {
  it.each(['en_US', 'de-1996-1996', 'en-US-US', 'x', '', '-', 'a'.repeat(40)])('drops %p, which Intl refuses (a mail with it could never be composed)', (tag) => {
    expect(safeLocale(tag)).toBeUndefined();
  });

  it('keeps and canonicalises the tags Intl accepts', () => {
    expect(safeLocale('pt-br')).toBe('pt-BR');
    expect(safeLocale('de-AT')).toBe('de-AT');
    expect(safeLocale('fr')).toBe('fr');
  });

  it('every dropped tag really makes Intl throw (the reason for the check)', () => {
    for (const tag of ['en_US', 'de-1996-1996', 'en-US-US']) {
      expect(() => Intl.DateTimeFormat.supportedLocalesOf([tag])).toThrow(RangeError);
    }
  });
});
