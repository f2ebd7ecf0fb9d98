// The SSRF guard (SPEC §9): before every attempt in production mode, the endpoint's host is resolved
// once and refused if it is, or resolves to, an address inside this network (loopback, private,
// link-local, CGNAT, unspecified, multicast, reserved). The transport then connects to the address
// checked here, so a second DNS answer (rebinding) never picks the target.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { AttemptTimeout } from "./transport";

export interface LookupAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Resolves a host name to its addresses, like `dns.promises.lookup(hostname, { all: true })`. */
export type Lookup = (hostname: string) => Promise<LookupAddress[]>;

export const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true });

/** The endpoint may not be sent to in production mode; recorded as `blocked_address`. */
export class BlockedAddress extends Error {}

// [first address, prefix length, what it is]. IPv6 ranges that embed an IPv4 address are checked
// through it (see `ipv6Range`).
const IPV4_RANGES: ReadonlyArray<readonly [string, number, string]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "CGNAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4Number(address: string): number {
  return address.split(".").reduce((value, part) => value * 256 + Number(part), 0);
}

function ipv4Range(address: string): string | null {
  const value = ipv4Number(address);
  for (const [first, bits, label] of IPV4_RANGES) {
    const size = 2 ** (32 - bits);
    if (Math.floor(value / size) === Math.floor(ipv4Number(first) / size))
      return `${label} (${first}/${bits})`;
  }
  return null;
}

/** The eight 16-bit groups of a valid IPv6 address (zone id dropped, dotted IPv4 tail folded in). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${(a * 256 + b).toString(16)}:${(c * 256 + d).toString(16)}`;
  }
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const [head = "", tail] = text.split("::");
  if (tail === undefined) return parse(head);
  const [left, right] = [parse(head), parse(tail)];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv6Range(address: string): string | null {
  const g = ipv6Groups(address);
  const embedded = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zeros = (count: number) => g.slice(0, count).every((group) => group === 0);
  if (zeros(8)) return "unspecified (::)";
  if (zeros(7) && g[7] === 1) return "loopback (::1)";
  // ::ffff:a.b.c.d (IPv4-mapped), ::a.b.c.d (IPv4-compatible), 64:ff9b::a.b.c.d (NAT64), 2002:ab:cd:: (6to4).
  if (zeros(5) && g[5] === 0xffff) return ipv4Range(embedded(g[6]!, g[7]!));
  if (zeros(6)) return ipv4Range(embedded(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((group) => group === 0)) {
    return ipv4Range(embedded(g[6]!, g[7]!));
  }
  if (g[0] === 0x2002) return ipv4Range(embedded(g[1]!, g[2]!));
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return "private (fc00::/7)";
  if ((first & 0xffc0) === 0xfe80) return "link-local (fe80::/10)";
  if ((first & 0xffc0) === 0xfec0) return "site-local (fec0::/10)";
  if ((first & 0xff00) === 0xff00) return "multicast (ff00::/8)";
  return null;
}

/** What kind of non-public address this is (e.g. `"private (10.0.0.0/8)"`), or null when it is public. */
export function blockedRange(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return ipv4Range(address);
  if (family === 6) return ipv6Range(address);
  return "not an IP address";
}

/**
 * Returns the address to connect to for `url`: the host itself when it is an IP literal (URL parsing
 * has already normalised spellings like `0x7f.1` or `2130706433` to `127.0.0.1`), else the first
 * address `lookup` gives. Throws `BlockedAddress` when the URL is not `https:` or any address is
 * blocked, and `AttemptTimeout` when `lookup` takes longer than `timeoutMs`.
 */
export async function checkAddress(url: string, lookup: Lookup, timeoutMs: number): Promise<string> {
  const parsed = URL.parse(url);
  if (parsed?.protocol !== "https:") {
    throw new BlockedAddress(`only https: URLs are sent in production mode (got ${url})`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const addresses = isIP(host) ? [host] : (await withTimeout(lookup(host), timeoutMs)).map((a) => a.address);
  if (addresses.length === 0) throw new Error(`no address found for ${host}`);
  for (const address of addresses) {
    const range = blockedRange(address);
    const what = address === host ? host : `${host} resolves to ${address}, which`;
    if (range !== null) throw new BlockedAddress(`${what} is ${range}: not sent in production mode`);
  }
  return addresses[0]!;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout()), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
