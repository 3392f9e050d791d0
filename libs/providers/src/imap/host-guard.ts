import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { HostPolicy } from './imap-settings';

/**
 * The SSRF guard for the mail servers users type in. A linked IMAP/SMTP account makes our processes open TCP
 * connections to a host of the user's choosing, so the host is resolved once here and every address it resolves to
 * must be a public unicast address; the caller then connects to the returned address (never to the name again, so
 * a second DNS answer cannot swap in a private address), with TLS `servername` set to the name the user typed.
 *
 * Refused unless `policy.allowPrivateHosts`: loopback, unspecified, RFC 1918, CGNAT, link-local (incl. the cloud
 * metadata address 169.254.169.254), IPv6 unique-local and link-/site-local, multicast, broadcast, documentation,
 * benchmarking and other reserved ranges, IPv6 outside global unicast 2000::/3, and IPv6 forms that embed one of the
 * refused IPv4 addresses (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
 */

export class HostNotAllowedError extends Error {
  readonly code = 'HOST_NOT_ALLOWED';
  constructor(
    readonly host: string,
    /** why, without the address itself being anything but the user's own input */
    readonly reason: string,
  ) {
    super(`host ${JSON.stringify(host)} is not allowed: ${reason}`);
    this.name = 'HostNotAllowedError';
  }
}

/** The name did not resolve (no such host, or DNS failed): the server cannot be reached. */
export class HostLookupError extends Error {
  readonly code = 'HOST_LOOKUP_FAILED';
  constructor(
    readonly host: string,
    /** the resolver's code (`ENOTFOUND`, `EAI_AGAIN`, …) */
    readonly lookupCode: string,
  ) {
    super(`host ${JSON.stringify(host)} did not resolve (${lookupCode})`);
    this.name = 'HostLookupError';
  }
}

type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/** A DNS name as RFC 1123 allows it (letters, digits, hyphens; labels of 1-63; at most 253). */
const HOSTNAME =
  /^(?=.{1,253}\.?$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** true for a DNS name or an IP literal (IPv6 without brackets or zone), the only hosts a user may type */
export function isValidMailHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host);
}

/**
 * The address to connect to for `host`: the literal itself, or the first address the name resolves to (IPv4
 * preferred). Throws `HostNotAllowedError` when any resolved address is refused by the policy (one bad answer is
 * enough: a resolver may hand out the others in any order), `HostLookupError` when the name does not resolve.
 */
export async function resolveAllowedHost(
  host: string,
  policy: HostPolicy,
  resolve: Resolver = systemResolver,
): Promise<string> {
  if (!isValidMailHost(host)) throw new HostNotAllowedError(host, 'not a host name or IP address');
  if (isIP(host) !== 0) {
    const refused = policy.allowPrivateHosts ? null : refusedAddressClass(host);
    if (refused) throw new HostNotAllowedError(host, refused);
    return host;
  }
  let answers: { address: string; family: number }[];
  try {
    answers = await resolve(host);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new HostLookupError(host, typeof code === 'string' ? code : 'ELOOKUP');
  }
  if (answers.length === 0) throw new HostLookupError(host, 'ENODATA');
  if (!policy.allowPrivateHosts) {
    for (const { address } of answers) {
      const refused = refusedAddressClass(address);
      if (refused) throw new HostNotAllowedError(host, `resolves to a ${refused} address`);
    }
  }
  return (answers.find((a) => a.family === 4) ?? answers[0]).address;
}

interface Range {
  bytes: number[];
  prefix: number;
  label: string;
}

function v4Range(cidr: string, label: string): Range {
  const [addr, prefix] = cidr.split('/');
  return { bytes: parseIPv4(addr)!, prefix: Number(prefix), label };
}

function v6Range(cidr: string, label: string): Range {
  const [addr, prefix] = cidr.split('/');
  return { bytes: parseIPv6(addr)!, prefix: Number(prefix), label };
}

/** IANA's IPv4 special-purpose registry, less the globally reachable entries */
const REFUSED_V4: Range[] = [
  v4Range('0.0.0.0/8', 'unspecified ("this network")'),
  v4Range('10.0.0.0/8', 'private (RFC 1918)'),
  v4Range('100.64.0.0/10', 'carrier-grade NAT'),
  v4Range('127.0.0.0/8', 'loopback'),
  v4Range('169.254.0.0/16', 'link-local'),
  v4Range('172.16.0.0/12', 'private (RFC 1918)'),
  v4Range('192.0.0.0/24', 'reserved (IETF protocol assignments)'),
  v4Range('192.0.2.0/24', 'reserved (documentation)'),
  v4Range('192.88.99.0/24', 'reserved (6to4 relay)'),
  v4Range('192.168.0.0/16', 'private (RFC 1918)'),
  v4Range('198.18.0.0/15', 'reserved (benchmarking)'),
  v4Range('198.51.100.0/24', 'reserved (documentation)'),
  v4Range('203.0.113.0/24', 'reserved (documentation)'),
  v4Range('224.0.0.0/4', 'multicast'),
  v4Range('240.0.0.0/4', 'reserved (incl. broadcast)'),
];

/** IPv6 ranges that embed an IPv4 address in their last 32 bits (or bits 16-47 for 6to4): judged by that address */
const EMBEDDING_V6: { range: Range; v4Offset: number }[] = [
  { range: v6Range('::ffff:0:0/96', 'IPv4-mapped'), v4Offset: 12 },
  { range: v6Range('::/96', 'IPv4-compatible'), v4Offset: 12 },
  { range: v6Range('64:ff9b::/96', 'NAT64'), v4Offset: 12 },
  { range: v6Range('2002::/16', '6to4'), v4Offset: 2 },
];

const REFUSED_V6: Range[] = [
  v6Range('::/128', 'unspecified'),
  v6Range('::1/128', 'loopback'),
  v6Range('64:ff9b:1::/48', 'reserved (local-use NAT64)'),
  v6Range('100::/64', 'reserved (discard-only)'),
  v6Range('2001::/23', 'reserved (IETF protocol assignments)'),
  v6Range('2001:db8::/32', 'reserved (documentation)'),
  v6Range('3fff::/20', 'reserved (documentation)'),
  v6Range('fc00::/7', 'unique-local'),
  v6Range('fe80::/10', 'link-local'),
  v6Range('fec0::/10', 'site-local'),
  v6Range('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST_V6 = v6Range('2000::/3', 'global unicast');

function inRange(bytes: number[], range: Range): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}

/**
 * Why an IP address may not be connected to (`'loopback'`, `'private (RFC 1918)'`, …), or null for a public
 * unicast address. Anything that is not an IP address at all is refused too.
 */
export function refusedAddressClass(address: string): string | null {
  const v4 = parseIPv4(address);
  if (v4) return REFUSED_V4.find((r) => inRange(v4, r))?.label ?? null;
  const v6 = parseIPv6(address.replace(/%.*$/, ''));
  if (!v6) return 'not an IP address';
  for (const r of REFUSED_V6) if (inRange(v6, r)) return r.label;
  for (const { range, v4Offset } of EMBEDDING_V6) {
    if (!inRange(v6, range)) continue;
    const inner = REFUSED_V4.find((r) => inRange(v6.slice(v4Offset, v4Offset + 4), r));
    if (inner) return `${range.label} ${inner.label}`;
    // a public IPv4 address: mapped, NAT64 and 6to4 forms reach it; the deprecated compatible form reaches nothing
    return range.label === 'IPv4-compatible' ? 'reserved (IPv4-compatible IPv6)' : null;
  }
  if (!inRange(v6, GLOBAL_UNICAST_V6)) return 'reserved (outside IPv6 global unicast)';
  return null;
}

/** the 4 bytes of a dotted-quad IPv4 address in its one canonical form, or null */
function parseIPv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const bytes = m.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? NaN : Number(p)));
  return bytes.every((b) => Number.isInteger(b) && b <= 255) ? bytes : null;
}

/** the 16 bytes of an IPv6 address (`::` compression and a trailing dotted quad allowed), or null */
function parseIPv6(s: string): number[] | null {
  if (isIP(s) !== 6) return null;
  let text = s.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail.push(...v4);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  const all = [...left, ...Array<string>(missing).fill('0'), ...right];
  const bytes = all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 && bytes.every((b) => Number.isInteger(b)) ? bytes : null;
}
