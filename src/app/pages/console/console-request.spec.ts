import { consoleCookie, consoleSessionIds } from './console-cookie';
import { consolePage } from './console.page';
import { consoleLanguage } from './console.strings';

describe('console request parsing', () => {
  it('reads session ids only from well-formed otp_console cookies', () => {
    expect(consoleSessionIds('a=1; otp_console=abc_DEF-123; b=2')).toEqual(['abc_DEF-123']);
    for (const header of [undefined, 42, '', 'otp_console=', 'otp_console=a b', 'xotp_console=abc', `otp_console=${'a'.repeat(129)}`, 'otp_console="abc"']) {
      expect([header, consoleSessionIds(header)]).toEqual([header, []]);
    }
  });

  it('builds the cookie with its attributes, Secure only when asked', () => {
    expect(consoleCookie('id1', 1800, false)).toBe('otp_console=id1; Path=/admin; Max-Age=1800; HttpOnly; SameSite=Strict');
    expect(consoleCookie('', 0, true)).toBe('__Host-otp_console=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });

  it('lists every well-formed value of the cookie (duplicates included), under __Host-otp_console when Secure', () => {
    expect(consoleSessionIds('otp_console=planted; a=1; otp_console=real_1; otp_console=%%')).toEqual(['planted', 'real_1']);
    expect(consoleSessionIds('otp_console=dev; __Host-otp_console=prod', true)).toEqual(['prod']);
    expect(consoleSessionIds(Array.from({ length: 40 }, (_, i) => `otp_console=v${i}`).join('; '))).toHaveLength(16);
  });

  it('picks the best supported language of Accept-Language by quality, then order; English otherwise', () => {
    expect(consoleLanguage('de-CH')).toBe('de');
    expect(consoleLanguage('es, fr;q=0.4, pt;q=0.8')).toBe('pt');
    expect(consoleLanguage('fr;q=0, de;q=0.1')).toBe('de');
    expect(consoleLanguage('*')).toBe('en');
    expect(consoleLanguage(undefined)).toBe('en');
    expect(consoleLanguage('x'.repeat(10_000))).toBe('en');
  });

  it('escapes what it interpolates (the html tag of page-html.ts): a hostile CSRF token stays an attribute value', () => {
    const page = consolePage('en', `"><img src=x onerror='1'>&`);
    expect(page).toContain('<meta name="csrf-token" content="&#34;&#62;&#60;img src=x onerror=&#39;1&#39;&#62;&#38;">');
    expect(page).not.toContain('<img');
  });
});
