import { randomUUID } from 'node:crypto';
import { mintChallengeId } from '../crypto/challenge-id';
import { maskPath, maskText, serializeRequest } from './otp-log-redaction';

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

  it('R30: a challenge id in a path or a message is logged with its recipient tag zeroed; other UUIDs as they came', () => {
    const id = mintChallengeId('0123456789abc');
    const atRest = `00000000-0000-80${id.slice(16)}`;
    const v4 = randomUUID();
    expect(maskPath(`/auth/otp/challenges/${id}/verify`)).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(maskPath(`/auth/otp/challenges/${id.toUpperCase()}/resend`)).toBe(`/auth/otp/challenges/${atRest}/resend`);
    expect(maskPath(`/auth/otp/challenges/${v4}/verify`)).toBe(`/auth/otp/challenges/${v4}/verify`);
    // Beside an encoded address (the decoded path is what is logged) and in free text.
    expect(maskPath(`/x/${id}/jane%40example.com`)).toBe(`/x/${atRest}/j***@example.com`);
    expect(maskPath(`/auth/otp/challenges/%3${id.slice(0, 8)}%2D${id.slice(9)}/verify`)).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(maskText(`mail 1 (challenge ${id}) failed`)).toBe(`mail 1 (challenge ${atRest}) failed`);
    expect(serializeRequest({ method: 'POST', url: `/auth/otp/challenges/${id}/verify?x=${id}` }).url).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(JSON.stringify(serializeRequest({ url: '/', headers: { 'user-agent': `agent ${id}` } }))).not.toContain('0123456789ab');
  });
});
