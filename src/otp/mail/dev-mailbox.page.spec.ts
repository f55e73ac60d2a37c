import { prefersHtml, requestedLocales } from './dev-mailbox.page';

describe('development mailbox negotiation', () => {
  it.each([
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html', true],
    ['application/json, text/html', false],
    ['text/html, application/json', true],
    ['text/html;q=0.5, application/json', false],
    ['text/html;q=0', false],
    ['*/*', false],
    ['', false],
    [undefined, false],
  ])('Accept %p prefers HTML: %p', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });

  it('reads the locales asked for, best first, leaving out malformed tags and q=0', () => {
    expect(requestedLocales('de-DE, fr;q=0.8, <x>, ja;q=0.9, en;q=0, *')).toEqual(['de-DE', 'ja', 'fr']);
    expect(requestedLocales(undefined)).toEqual([]);
  });
});
