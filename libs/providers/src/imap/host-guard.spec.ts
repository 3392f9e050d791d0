import { BlockList } from 'node:net';
import {
  HostLookupError,
  HostNotAllowedError,
  isValidMailHost,
  refusedAddressClass,
  resolveAllowedHost,
} from './host-guard';

const closed = { allowPrivateHosts: false };
const open = { allowPrivateHosts: true };

const answers =
  (...addresses: string[]) =>
  (): Promise<{ address: string; family: number }[]> =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

describe('refusedAddressClass', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['0.1.2.3', 'unspecified ("this network")'],
    ['10.0.0.1', 'private (RFC 1918)'],
    ['10.255.255.255', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved (incl. broadcast)'],
    ['240.0.0.1', 'reserved (incl. broadcast)'],
    ['192.0.2.10', 'reserved (documentation)'],
    ['198.18.0.1', 'reserved (benchmarking)'],
    ['192.0.0.8', 'reserved (IETF protocol assignments)'],
  ])('refuses IPv4 %s (%s)', (address, label) => {
    expect(refusedAddressClass(address)).toBe(label);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '223.255.255.255',
    '9.255.255.255',
    '11.0.0.0',
    '192.167.255.255',
    '192.169.0.0',
  ])('lets the public IPv4 %s through (range edges included)', (address) => {
    expect(refusedAddressClass(address)).toBeNull();
  });

  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved (documentation)'],
    ['100::1', 'reserved (discard-only)'],
    ['2001::1', 'reserved (IETF protocol assignments)'],
    ['4000::1', 'reserved (outside IPv6 global unicast)'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::FFFF:7f00:1', 'IPv4-mapped loopback'],
    ['0:0:0:0:0:ffff:a00:1', 'IPv4-mapped private (RFC 1918)'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['::ffff:192.168.0.1', 'IPv4-mapped private (RFC 1918)'],
    ['::ffff:100.64.0.1', 'IPv4-mapped carrier-grade NAT'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::8.8.8.8', 'reserved (IPv4-compatible IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 link-local'],
    ['64:ff9b::10.0.0.1', 'NAT64 private (RFC 1918)'],
    ['2002:7f00:1::1', '6to4 loopback'],
    ['2002:c0a8:101::', '6to4 private (RFC 1918)'],
  ])('refuses IPv6 %s (%s)', (address, label) => {
    expect(refusedAddressClass(address)).toBe(label);
  });

  it.each([
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('lets the public IPv6 %s through', (address) => {
    expect(refusedAddressClass(address)).toBeNull();
  });

  it('refuses what is not an IP address', () => {
    expect(refusedAddressClass('mail.example.com')).toBe('not an IP address');
    expect(refusedAddressClass('1:2:3:4:5:6:7:8:9')).toBe('not an IP address');
  });

  it("agrees with node's BlockList on the plain IPv4 and IPv6 private ranges", () => {
    const list = new BlockList();
    list.addSubnet('10.0.0.0', 8, 'ipv4');
    list.addSubnet('172.16.0.0', 12, 'ipv4');
    list.addSubnet('192.168.0.0', 16, 'ipv4');
    list.addSubnet('127.0.0.0', 8, 'ipv4');
    list.addSubnet('169.254.0.0', 16, 'ipv4');
    list.addSubnet('100.64.0.0', 10, 'ipv4');
    list.addSubnet('fc00::', 7, 'ipv6');
    list.addSubnet('fe80::', 10, 'ipv6');
    // a deterministic sweep over the edges of every listed range
    const samples: string[] = [];
    for (const a of [9, 10, 11, 99, 100, 126, 127, 128, 168, 169, 170, 171, 172, 173, 191, 192, 193]) {
      for (const b of [0, 15, 16, 31, 32, 63, 64, 127, 128, 167, 168, 169, 253, 254, 255])
        samples.push(`${a}.${b}.0.1`);
    }
    const listed = new Set([
      'private (RFC 1918)',
      'loopback',
      'link-local',
      'carrier-grade NAT',
      'unique-local',
    ]);
    const ours = (s: string) => listed.has(refusedAddressClass(s) ?? '');
    for (const s of samples) expect([s, ours(s)]).toEqual([s, list.check(s, 'ipv4')]);
    for (const s of [
      'fbff::1',
      'fc00::1',
      'fdff::1',
      'fe00::1',
      'fe7f::1',
      'fe80::1',
      'febf::1',
      'fec0::1',
    ]) {
      expect([s, ours(s)]).toEqual([s, list.check(s, 'ipv6')]);
    }
  });
});

describe('isValidMailHost', () => {
  it.each([
    'mail.example.com',
    'imap.gmail.com',
    'localhost',
    'a',
    'x-1.example.org.',
    '8.8.8.8',
    '2606:4700::1',
  ])('accepts %s', (host) => expect(isValidMailHost(host)).toBe(true));
  it.each([
    '',
    'imap://mail.example.com',
    'mail.example.com/path',
    'mail.example.com:993',
    '[::1]',
    'user@mail.example.com',
    '-bad.example.com',
    'bad-.example.com',
    'mail .example.com',
    'a'.repeat(64) + '.com',
    'exa_mple.com',
  ])('refuses %j', (host) => expect(isValidMailHost(host)).toBe(false));
});

describe('resolveAllowedHost', () => {
  it('answers a public IP literal itself', async () => {
    await expect(resolveAllowedHost('8.8.8.8', closed)).resolves.toBe('8.8.8.8');
    await expect(resolveAllowedHost('2606:4700:4700::1111', closed)).resolves.toBe('2606:4700:4700::1111');
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::'])(
    'refuses the literal %s with HOST_NOT_ALLOWED',
    async (host) => {
      const err = await resolveAllowedHost(host, closed).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostNotAllowedError);
      expect((err as HostNotAllowedError).code).toBe('HOST_NOT_ALLOWED');
    },
  );

  it('refuses localhost, which resolves to loopback through the system resolver', async () => {
    const err = await resolveAllowedHost('localhost', closed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostNotAllowedError);
    expect((err as HostNotAllowedError).reason).toMatch(/loopback/);
  });

  it('refuses a name whose resolver accepts a short IPv4 form (127.1)', async () => {
    // getaddrinfo reads "127.1" as 127.0.0.1; whatever the resolver makes of it, it must not pass
    const err = await resolveAllowedHost('127.1', closed).catch((e: unknown) => e);
    expect(err instanceof HostNotAllowedError || err instanceof HostLookupError).toBe(true);
  });

  it('refuses a name when any of its addresses is refused, whatever the order', async () => {
    for (const order of [
      ['93.184.216.34', '10.0.0.5'],
      ['10.0.0.5', '93.184.216.34'],
      ['2606:2800:220:1::', '::ffff:169.254.169.254'],
    ]) {
      const err = await resolveAllowedHost('mail.example.com', closed, answers(...order)).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HostNotAllowedError);
      expect((err as HostNotAllowedError).host).toBe('mail.example.com');
    }
  });

  it('answers the first IPv4 address of a public name, else its first address', async () => {
    await expect(
      resolveAllowedHost('mail.example.com', closed, answers('2606:2800:220:1::', '93.184.216.34')),
    ).resolves.toBe('93.184.216.34');
    await expect(resolveAllowedHost('mail.example.com', closed, answers('2606:2800:220:1::'))).resolves.toBe(
      '2606:2800:220:1::',
    );
  });

  it('lets private hosts through when the policy allows them', async () => {
    await expect(resolveAllowedHost('127.0.0.1', open)).resolves.toBe('127.0.0.1');
    await expect(resolveAllowedHost('mail.internal', open, answers('10.0.0.5'))).resolves.toBe('10.0.0.5');
    const local = await resolveAllowedHost('localhost', open);
    expect(['127.0.0.1', '::1']).toContain(local);
  });

  it('refuses what is not a host name or IP, whatever the policy', async () => {
    for (const host of ['imap://mail.example.com', 'mail.example.com/x', '', '[::1]']) {
      await expect(resolveAllowedHost(host, open)).rejects.toBeInstanceOf(HostNotAllowedError);
    }
  });

  it('reports a name that does not resolve as HostLookupError with the resolver code', async () => {
    const failing = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    const err = await resolveAllowedHost('nowhere.example.com', closed, failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostLookupError);
    expect((err as HostLookupError).lookupCode).toBe('ENOTFOUND');
    await expect(resolveAllowedHost('empty.example.com', closed, answers())).rejects.toBeInstanceOf(
      HostLookupError,
    );
  });
});
