import { BlockList, isIP } from 'node:net';

/** Why an address is refused (the names appear in errors, logs and docs/security.md). */
export type RefusedRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared (CGNAT)'
  | 'link-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

type Family = 'ipv4' | 'ipv6';

// IANA special-purpose registries (RFC 6890 and its updates). Only ranges that can reach something other than
// the public internet are listed; documentation ranges route nowhere and need no entry.
const IPV4_RANGES: readonly (readonly [RefusedRange, string, number])[] = [
  ['unspecified', '0.0.0.0', 8], // "this network" (RFC 1122); 0.0.0.0 connects to the local host
  ['private', '10.0.0.0', 8], // RFC 1918
  ['shared (CGNAT)', '100.64.0.0', 10], // RFC 6598
  ['loopback', '127.0.0.0', 8],
  ['link-local', '169.254.0.0', 16], // includes cloud metadata 169.254.169.254
  ['private', '172.16.0.0', 12], // RFC 1918
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['private', '192.168.0.0', 16], // RFC 1918
  ['reserved', '198.18.0.0', 15], // benchmarking, used inside some networks
  ['multicast', '224.0.0.0', 4],
  ['broadcast', '255.255.255.255', 32],
  ['reserved', '240.0.0.0', 4],
];

const IPV6_RANGES: readonly (readonly [RefusedRange, string, number])[] = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['private', 'fc00::', 7], // unique local (RFC 4193); includes AWS metadata fd00:ec2::254
  ['link-local', 'fe80::', 10],
  ['private', 'fec0::', 10], // deprecated site-local, still routed inside some networks
  ['multicast', 'ff00::', 8],
  ['reserved', '::', 96], // deprecated IPv4-compatible addresses (::a.b.c.d)
];

function rangeLists(): ReadonlyMap<RefusedRange, BlockList> {
  const lists = new Map<RefusedRange, BlockList>();
  const add = (name: RefusedRange, network: string, prefix: number, family: Family) => {
    let list = lists.get(name);
    if (list === undefined) lists.set(name, (list = new BlockList()));
    list.addSubnet(network, prefix, family);
  };
  for (const [name, network, prefix] of IPV4_RANGES) add(name, network, prefix, 'ipv4');
  for (const [name, network, prefix] of IPV6_RANGES) add(name, network, prefix, 'ipv6');
  return lists;
}

const REFUSED_RANGES = rangeLists();
const ORDER: readonly RefusedRange[] = [
  'unspecified',
  'loopback',
  'private',
  'shared (CGNAT)',
  'link-local',
  'multicast',
  'broadcast',
  'reserved',
];

/**
 * The IPv4 address an IPv6 address stands for, if it embeds one a connection would reach: IPv4-mapped
 * (`::ffff:a.b.c.d`, RFC 4291) and the NAT64 well-known prefix (`64:ff9b::a.b.c.d`, RFC 6052).
 */
export function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const groups = expandIpv6(address);
  const isMapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  const isNat64 =
    groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (!isMapped && !isNat64) return undefined;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address (which must be valid), dotted-quad tails included. */
function expandIpv6(address: string): number[] {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const bytes = dotted[1].split('.').map(Number);
    const hex = (a = 0, b = 0) => ((a << 8) | b).toString(16);
    text = `${text.slice(0, -dotted[1].length)}${hex(bytes[0], bytes[1])}:${hex(bytes[2], bytes[3])}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<number>(Math.max(missing, 0)).fill(0), ...right];
}

/**
 * The refused range an IP address belongs to, or `undefined` for a public address. IPv6 forms that embed an
 * IPv4 address are judged by the address they reach.
 */
export function refusedRangeOf(address: string): RefusedRange | undefined {
  const family = isIP(address);
  if (family === 0) throw new TypeError('not an IP address');
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined) return refusedRangeOf(v4);
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  for (const name of ORDER) {
    if (REFUSED_RANGES.get(name)?.check(address, type) === true) return name;
  }
  return undefined;
}

/** What an allow-list entry is: a host name (matched exactly) or a CIDR (a bare IP address = one address). */
export type AllowEntry =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'cidr'; readonly network: string; readonly prefix: number; readonly family: Family };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/;

/** Parses one allow-list entry; `undefined` when it is neither a host name nor an address/CIDR. */
export function parseAllowEntry(raw: string): AllowEntry | undefined {
  const text = raw.trim().toLowerCase();
  const slash = text.indexOf('/');
  const address = (slash === -1 ? text : text.slice(0, slash)).replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  if (family !== 0) {
    const max = family === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
    return {
      kind: 'cidr',
      network: address,
      prefix: Number(prefixText),
      family: family === 4 ? 'ipv4' : 'ipv6',
    };
  }
  if (slash !== -1 || !HOST_NAME.test(text)) return undefined;
  return { kind: 'host', host: normaliseHost(text) };
}

/** Lower case, no IPv6 brackets, no trailing dot: how hosts are compared. */
export function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Which destinations a request made for a tenant may reach: every public address, plus what the allow-list
 * names (a host by name, whatever it resolves to; or an address range).
 */
export class AddressPolicy {
  private readonly hosts: ReadonlySet<string>;
  private readonly allowed = new BlockList();

  constructor(entries: readonly AllowEntry[]) {
    const hosts = new Set<string>();
    for (const entry of entries) {
      if (entry.kind === 'host') hosts.add(entry.host);
      else this.allowed.addSubnet(entry.network, entry.prefix, entry.family);
    }
    this.hosts = hosts;
  }

  /** True when the host is allowed by name (its addresses are then not checked). */
  allowsHost(host: string): boolean {
    return this.hosts.has(normaliseHost(host));
  }

  /** Why a connection to `address` is refused, or `undefined` when it may go ahead. */
  refusal(address: string): RefusedRange | undefined {
    const range = refusedRangeOf(address);
    if (range === undefined) return undefined;
    const v4 = embeddedIpv4(address);
    const allowed =
      this.allowed.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6') ||
      (v4 !== undefined && this.allowed.check(v4, 'ipv4'));
    return allowed ? undefined : range;
  }

  /**
   * What can be decided without DNS: the scheme, credentials in the URL, and a host that is an IP literal or
   * `localhost` in a refused range. Hosts that need DNS are checked when they are fetched.
   */
  checkUrl(raw: string | URL): UrlCheck {
    if (typeof raw === 'string' && !URL.canParse(raw)) return { ok: false, reason: 'is not an absolute URL' };
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, reason: 'must be an http or https URL' };
    }
    if (url.username !== '' || url.password !== '') {
      return { ok: false, reason: 'must not contain credentials (user:password@)' };
    }
    const reason = this.refusalOfHost(url.hostname);
    return reason === undefined ? { ok: true, url } : { ok: false, reason };
  }

  /**
   * What can be decided about a host (of a URL or a Kafka bootstrap list) without DNS: why it is refused — an IP
   * literal or `localhost` in a refused range — or `undefined` when it is allowed or only DNS can tell.
   */
  refusalOfHost(rawHost: string): string | undefined {
    const host = normaliseHost(rawHost);
    if (this.allowsHost(host)) return undefined;
    if (isIP(host) !== 0) {
      const range = this.refusal(host);
      if (range !== undefined) return `points to ${refusedText(range)}`;
    } else if (host === 'localhost' || host.endsWith('.localhost')) {
      // RFC 6761: localhost names always resolve to loopback.
      if (this.refusal('127.0.0.1') !== undefined && this.refusal('::1') !== undefined) {
        return `points to ${refusedText('loopback')}`;
      }
    }
    return undefined;
  }
}

export type UrlCheck =
  { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

export function refusedText(range: RefusedRange): string {
  return `a ${range} address, which is refused (not on the outbound allow-list)`;
}
