import { BlockList, isIP, isIPv4 } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { Agent, buildConnector } from 'undici';
import { lazyDispatcher } from './lazy-undici.js';

/**
 * The outbound-request guard (SSRF): every request idpbridge makes on behalf of a tenant
 * (webhook deliveries, OIDC discovery/JWKS/token calls) goes through an undici Agent built here.
 * Its connector checks the address it actually connects to — the resolved address, at connect
 * time, so a name that resolves to a public address when registered and to 127.0.0.1 later (DNS
 * rebinding) is refused too — and refuses loopback, private, link-local, CGNAT, multicast,
 * unspecified, reserved and cloud-metadata addresses, including their IPv4-mapped, IPv4-compatible
 * and NAT64 IPv6 forms, unless the operator's allow list (IDPBRIDGE_ALLOW_PRIVATE_TARGETS: host
 * names and CIDRs) names them. A refusal always reads TARGET_NOT_ALLOWED: it never says whether
 * anything listens there.
 */

export const TARGET_NOT_ALLOWED = 'target address not allowed';

export class TargetNotAllowedError extends Error {
  readonly code = 'ERR_TARGET_NOT_ALLOWED';
  constructor() {
    super(TARGET_NOT_ALLOWED);
    this.name = 'TargetNotAllowedError';
  }
}

/** True for a TargetNotAllowedError, also when undici wrapped it. */
export function isTargetNotAllowed(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === 'ERR_TARGET_NOT_ALLOWED') return true;
  }
  return false;
}

// Ranges no tenant-supplied URL may reach (RFC 6890 special-purpose registries, minus global ones).
const REFUSED_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT (RFC 6598), also some clouds' metadata (100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const REFUSED_V6: [string, number][] = [
  ['100::', 64], // discard-only
  ['64:ff9b:1::', 48], // local-use NAT64
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (ULA), incl. fd00:ec2::254 (metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const refused = new BlockList();
for (const [a, p] of REFUSED_V4) refused.addSubnet(a, p, 'ipv4');
for (const [a, p] of REFUSED_V6) refused.addSubnet(a, p, 'ipv6');

/** The 16 bytes of an IPv6 address (also with a trailing dotted quad), or undefined. */
function ipv6Bytes(ip: string): number[] | undefined {
  let s = ip.replace(/^\[|\]$/g, '').split('%')[0]!;
  // A trailing dotted quad becomes its two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    if (!isIPv4(quad[1]!)) return undefined;
    const [a, b, c, d] = quad[1]!.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0 || head.length + fill + rest.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of [...head, ...Array<string>(fill).fill('0'), ...rest]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/**
 * The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, which also covers :: and ::1) and NAT64 (64:ff9b::a.b.c.d).
 */
export function embeddedIPv4(ip: string): string | undefined {
  const b = ipv6Bytes(ip);
  if (!b) return undefined;
  const zeros = (n: number) => b.slice(0, n).every((x) => x === 0);
  const v4 = () => b.slice(12).join('.');
  if (zeros(10) && b[10] === 0xff && b[11] === 0xff) return v4();
  if (zeros(12)) return v4();
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b.slice(4, 12).every((x) => x === 0)) return v4();
  return undefined;
}

/** An address as checked: IPv6 forms of an IPv4 address become that IPv4 address. */
function canonical(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const bare = ip.replace(/^\[|\]$/g, '');
  const kind = isIP(bare.split('%')[0]!);
  if (kind === 4) return { address: bare, family: 'ipv4' };
  if (kind !== 6) return undefined;
  const v4 = embeddedIPv4(bare);
  return v4 ? { address: v4, family: 'ipv4' } : { address: bare.split('%')[0]!, family: 'ipv6' };
}

/** True when an address is in a refused range (whatever the allow list says); non-addresses are refused. */
export function isRefusedAddress(ip: string): boolean {
  const c = canonical(ip);
  return !c || refused.check(c.address, c.family);
}

/** The operator's exceptions: host names (exact, case-insensitive) and CIDRs / addresses. */
export class TargetPolicy {
  private readonly hosts = new Set<string>();
  private readonly nets = new BlockList();

  /** `entries`: IDPBRIDGE_ALLOW_PRIVATE_TARGETS split on commas, e.g. `127.0.0.1/8, ::1, hooks.internal`. */
  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const [addr, prefix, extra] = entry.split('/');
      const c = canonical(addr!);
      if (c) {
        const max = c.family === 'ipv4' ? 32 : 128;
        // A prefix given for an IPv4-mapped form counts from the IPv4 address.
        let bits = prefix === undefined ? max : Number(prefix) - (c.family === 'ipv4' && isIP(addr!.replace(/^\[|\]$/g, '')) === 6 ? 96 : 0);
        if (extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > max || (prefix !== undefined && !/^\d+$/.test(prefix))) {
          throw new Error(`IDPBRIDGE_ALLOW_PRIVATE_TARGETS: "${raw.trim()}" is not a valid address or CIDR`);
        }
        this.nets.addSubnet(c.address, bits, c.family);
      } else if (prefix === undefined && /^[a-z0-9.-]+$/.test(entry) && !entry.startsWith('.')) {
        this.hosts.add(entry.replace(/\.$/, ''));
      } else {
        throw new Error(`IDPBRIDGE_ALLOW_PRIVATE_TARGETS: "${raw.trim()}" is neither a host name nor an address or CIDR`);
      }
    }
  }

  /** Parses the comma-separated environment value. */
  static parse(value: string | undefined): TargetPolicy {
    return new TargetPolicy((value ?? '').split(','));
  }

  /** True when `hostname` is allowed by name (it may then resolve anywhere). */
  allowsHost(hostname: string): boolean {
    return this.hosts.has(hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase());
  }

  /** May idpbridge connect to `address` (reached through `hostname`)? */
  allows(hostname: string, address: string): boolean {
    if (this.allowsHost(hostname)) return true;
    const c = canonical(address);
    if (!c) return false;
    if (!refused.check(c.address, c.family)) return true;
    return this.nets.check(c.address, c.family);
  }

  /**
   * A check before any request, for registration-time errors: true when the URL's host is an IP
   * literal (or `localhost`) this policy refuses. Names are checked at connect time only.
   */
  refusesUrl(url: string | URL): boolean {
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return false;
    }
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (this.allowsHost(host)) return false;
    if (host === 'localhost' || host.endsWith('.localhost')) return !this.nets.check('127.0.0.1', 'ipv4');
    if (!isIP(host)) return false;
    return !this.allows(host, host);
  }
}

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls.connect that resolves, then keeps only the addresses the policy allows. */
export function guardedLookup(policy: TargetPolicy, resolve: Resolve = systemResolve) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | number, callback: LookupCallback): void => {
    const opts = typeof options === 'object' && options !== null ? options : {};
    resolve(hostname).then(
      (all) => {
        const want = opts.family === 4 || opts.family === 'IPv4' ? 4 : opts.family === 6 || opts.family === 'IPv6' ? 6 : 0;
        const ok = all.filter((a) => (want === 0 || a.family === want) && policy.allows(hostname, a.address));
        if (ok.length === 0) return callback(all.length ? new TargetNotAllowedError() : Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), '', 0);
        if (opts.all) return callback(null, ok);
        callback(null, ok[0]!.address, ok[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface OutboundAgentOptions {
  /** Connect timeout (ms). */
  connectTimeoutMs?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
  connections?: number;
  keepAliveTimeout?: number;
  /** Name resolution (tests inject one; default: the system resolver, like fetch). */
  resolve?: Resolve;
}

/**
 * An undici Agent that only connects where `policy` allows: IP literals are checked before
 * connecting, names through the guarded lookup (the resolved address, at connect time), and the
 * connected socket's peer address once more.
 */
export function createOutboundAgent(policy: TargetPolicy, opts: OutboundAgentOptions = {}): Agent {
  // Built (and undici loaded) when the first request goes through it.
  return lazyDispatcher((undici) => {
    const base = undici.buildConnector({
      timeout: opts.connectTimeoutMs ?? 10_000,
      lookup: guardedLookup(policy, opts.resolve) as never,
    });
    const connect: buildConnector.connector = (options, callback) => {
      const hostname = options.hostname.replace(/^\[|\]$/g, '');
      if (isIP(hostname) && !policy.allows(hostname, hostname)) {
        queueMicrotask(() => callback(new TargetNotAllowedError(), null));
        return;
      }
      base(options, (err, socket) => {
        if (err) return callback(isTargetNotAllowed(err) ? new TargetNotAllowedError() : err, null);
        const peer = socket!.remoteAddress;
        if (peer && !policy.allows(hostname, peer)) {
          socket!.destroy();
          return callback(new TargetNotAllowedError(), null);
        }
        callback(null, socket!);
      });
    };
    return new undici.Agent({
      connect,
      headersTimeout: opts.headersTimeout,
      bodyTimeout: opts.bodyTimeout,
      connections: opts.connections,
      keepAliveTimeout: opts.keepAliveTimeout,
    });
  });
}
