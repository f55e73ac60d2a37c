import { summariseUserAgent } from './user-agent-summary';

describe('summariseUserAgent: what a notice says about the browser', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0', 'Edge on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['curl/8.5.0', 'curl'],
  ])('%s is "%s"', (ua, summary) => {
    expect(summariseUserAgent(ua)).toBe(summary);
  });

  it('an unknown or missing agent is undefined, never the client\'s own text (a notice must not carry it)', () => {
    expect(summariseUserAgent(undefined)).toBeUndefined();
    expect(summariseUserAgent('')).toBeUndefined();
    expect(summariseUserAgent('Call +1 555 0100 or visit evil.example')).toBeUndefined();
  });
});
