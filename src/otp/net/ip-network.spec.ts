import { ipNetwork } from './ip-network';

describe('ipNetwork: the coarse location of a client address', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:198.51.100.4', '198.51.100.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:DB8:1:ffff::9', '2001:db8:1::/48'],
    ['2001:db8::1', '2001:db8::/48'],
    ['fe80::1%eth0', 'fe80::/48'],
    ['::1', '::/48'],
    ['127.0.0.1', '127.0.0.0/24'],
  ])('%s is in %s', (ip, network) => {
    expect(ipNetwork(ip)).toBe(network);
  });

  it.each([undefined, '', 'unknown', '999.1.1.1', '01.2.3.4', '203.0.113.0/24', 'not:an:ip'])('%s has no network', (ip) => {
    expect(ipNetwork(ip)).toBeUndefined();
  });
});
