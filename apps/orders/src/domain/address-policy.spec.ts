import {
  AddressPolicy,
  embeddedIpv4,
  parseAllowEntry,
  refusedRangeOf,
  type AllowEntry,
} from './address-policy';

const policy = (...entries: string[]) =>
  new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry));

describe(refusedRangeOf.name, () => {
  it.each([
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::7f00:1', 'reserved'],
    // IPv4 forms inside IPv6 are judged by the IPv4 address they reach
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
  ])('%s is %s', (address, range) => {
    expect(refusedRangeOf(address)).toBe(range);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '2606:4700:4700::1111',
    '2001:db8::1',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    'fbff::1',
  ])('%s is public', (address) => {
    expect(refusedRangeOf(address)).toBeUndefined();
  });

  it('extracts embedded IPv4 addresses only from mapped and NAT64 forms', () => {
    expect(embeddedIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIpv4('2001:db8::7f00:1')).toBeUndefined();
    expect(embeddedIpv4('127.0.0.1')).toBeUndefined();
  });
});

describe(parseAllowEntry.name, () => {
  it('reads host names, addresses and CIDRs, and refuses anything else', () => {
    expect(parseAllowEntry('Profile.Internal.')).toEqual({ kind: 'host', host: 'profile.internal' });
    expect(parseAllowEntry('localhost')).toEqual({ kind: 'host', host: 'localhost' });
    expect(parseAllowEntry('10.1.0.0/16')).toEqual({
      kind: 'cidr',
      network: '10.1.0.0',
      prefix: 16,
      family: 'ipv4',
    });
    expect(parseAllowEntry('127.0.0.1')).toEqual({
      kind: 'cidr',
      network: '127.0.0.1',
      prefix: 32,
      family: 'ipv4',
    });
    expect(parseAllowEntry('[::1]')).toEqual({ kind: 'cidr', network: '::1', prefix: 128, family: 'ipv6' });
    expect(parseAllowEntry('fd00::/8')).toEqual({
      kind: 'cidr',
      network: 'fd00::',
      prefix: 8,
      family: 'ipv6',
    });
    for (const bad of ['10.0.0.0/33', '::/129', 'host/8', 'http://x', 'a b', '', '10.0.0.0/x']) {
      expect(parseAllowEntry(bad)).toBeUndefined();
    }
  });
});

describe(AddressPolicy.name, () => {
  it('refuses every non-public address when nothing is allowed', () => {
    const none = policy();
    expect(none.refusal('127.0.0.1')).toBe('loopback');
    expect(none.refusal('::ffff:10.0.0.1')).toBe('private');
    expect(none.refusal('93.184.215.14')).toBeUndefined();
    expect(none.allowsHost('localhost')).toBe(false);
  });

  it('allows what a CIDR names, also in its IPv4-mapped IPv6 form, and nothing next to it', () => {
    const allowed = policy('10.1.0.0/16', '::1');
    expect(allowed.refusal('10.1.2.3')).toBeUndefined();
    expect(allowed.refusal('::ffff:10.1.2.3')).toBeUndefined();
    expect(allowed.refusal('10.2.0.1')).toBe('private');
    expect(allowed.refusal('::1')).toBeUndefined();
    expect(allowed.refusal('127.0.0.1')).toBe('loopback');
  });

  it('allows a host by name, case- and trailing-dot-insensitively', () => {
    const allowed = policy('profile.internal');
    expect(allowed.allowsHost('PROFILE.internal.')).toBe(true);
    expect(allowed.allowsHost('evil-profile.internal')).toBe(false);
    expect(allowed.allowsHost('profile.internal.evil.example')).toBe(false);
  });
});
