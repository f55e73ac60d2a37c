import { maskPath } from './otp-log-redaction';

describe('maskPath', () => {
  it('R38: an address in a path is masked also beside an invalid or incomplete escape, or an escape that is no UTF-8', () => {
    const paths = [
      '/auth/path.victim1%40example.com/%ZZ',
      '/auth/%ZZ/path.victim2%40example.com',
      '/nowhere/path.victim3%2540example.com/%E0%A4%A',
      '/nowhere/%ED%A0%80/path.victim4%40example.com',
      '/nowhere/%FF/path%2Evictim5%40example%2Ecom%',
      '/nowhere/path.victim6%252540example.com/%25ZZ',
    ];
    for (const [i, path] of paths.entries()) {
      const logged = maskPath(path);
      expect(logged).not.toMatch(new RegExp(`ath(\\.|%2E)victim${i + 1}`, 'i'));
      expect(logged).toMatch(/p\*\*\*@example\.com/);
    }
  });

  it('leaves a path without an address as it came, and masks plain and encoded addresses', () => {
    expect(maskPath('/auth/otp/challenges/abc/resend')).toBe('/auth/otp/challenges/abc/resend');
    expect(maskPath('/files/%ZZ/report%20one')).toBe('/files/%ZZ/report%20one');
    expect(maskPath('/a/jane@example.com')).toBe('/a/j***@example.com');
    expect(maskPath('/a/jane%40example.com')).toBe('/a/j***@example.com');
    expect(maskPath('/a/jane%2540example.com')).toBe('/a/j***@example.com');
  });
});
