// Which WAV URLs the worker may fetch. The URL comes from a callback or a poll answer, so it is
// attacker-influenced: only https, only allowlisted hosts when WAV_SOURCE_HOSTS is set, and never
// an address inside loopback, private, link-local or cloud-metadata ranges unless a plain
// (non-wildcard) allowlist entry names it. Checked before every request, redirects included.

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export function checkSourceUrl(raw: string, allowlist: readonly string[]): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: `scheme ${url.protocol} is not allowed` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "URLs with credentials are not allowed" };
  }
  // "localhost." is "localhost": one trailing dot is dropped before any comparison.
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const match = matchAllowlist(host, port, allowlist);

  if (allowlist.length > 0 && match === "none") {
    return { ok: false, reason: `host ${url.host} is not in WAV_SOURCE_HOSTS` };
  }
  if (url.protocol === "http:" && match === "none") {
    return { ok: false, reason: "plain http is only allowed for hosts listed in WAV_SOURCE_HOSTS" };
  }
  // A wildcard never vouches for an internal address; only an exact entry does.
  if (match !== "exact" && isInternalHost(host)) {
    return { ok: false, reason: `host ${url.host} is an internal address` };
  }
  return { ok: true, url };
}

type Match = "none" | "wildcard" | "exact";

function matchAllowlist(host: string, port: string, allowlist: readonly string[]): Match {
  let best: Match = "none";
  for (const entry of allowlist) {
    const { pattern, entryPort } = splitEntry(entry);
    if (entryPort !== null && entryPort !== port) continue;
    if (pattern.startsWith("*.")) {
      if (host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1) best = "wildcard";
    } else if (pattern === host) {
      return "exact";
    }
  }
  return best;
}

function splitEntry(entry: string): { pattern: string; entryPort: string | null } {
  const e = entry.trim().toLowerCase().replace(/\.(?=:\d+$|$)/, "");
  // [v6]:port, [v6], host:port, host
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  if (v6) return { pattern: v6[1]!, entryPort: v6[2] ?? null };
  const hp = /^([^:]+):(\d+)$/.exec(e);
  if (hp) return { pattern: hp[1]!, entryPort: hp[2]! };
  return { pattern: e, entryPort: null };
}

const INTERNAL_NAMES = ["localhost", "metadata.google.internal", "metadata"];

/** Hostnames and IP literals that lead into the machine, the LAN or a cloud's metadata service. */
function isInternalHost(host: string): boolean {
  if (INTERNAL_NAMES.includes(host) || host.endsWith(".localhost") || host.endsWith(".internal")) {
    return true;
  }
  const v4 = parseIPv4(host);
  if (v4 !== null) return isInternalIPv4(v4);
  if (host.includes(":")) return isInternalIPv6(host);
  return false;
}

function parseIPv4(host: string): number[] | null {
  // The URL parser has already normalised 0x7f.1, 2130706433 and friends to dotted quads.
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function isInternalIPv4([a, b]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, incl. 169.254.169.254 metadata
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // 192.0.0.0/24 protocol assignments (and 192.0.2.0/24 docs)
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a! >= 224 // multicast, reserved, broadcast
  );
}

function isInternalIPv6(host: string): boolean {
  const groups = expandIPv6(host);
  if (groups === null) return true; // unparseable literal: refuse rather than guess
  if (groups.every((g) => g === 0)) return true; // ::
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true; // ::1
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d) and IPv4-compatible forms
  // carry an IPv4 address in their last 32 bits.
  const mapped = groups.slice(0, 4).every((g) => g === 0) && (
    (groups[4] === 0 && (groups[5] === 0xffff || groups[5] === 0)) || (groups[4] === 0xffff && groups[5] === 0)
  );
  if (mapped) return isInternalIPv4(v4(groups[6]!, groups[7]!));
  // 6to4 (2002:a.b.c.d::/48) tunnels to the IPv4 address in its second and third groups.
  if (groups[0] === 0x2002 && isInternalIPv4(v4(groups[1]!, groups[2]!))) return true;
  const first = groups[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7 (incl. fd00:ec2::254 metadata)
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 || // multicast
    (first === 0x64 && groups[1] === 0xff9b) // NAT64 64:ff9b::/96 can reach IPv4 ranges
  );
}

function expandIPv6(host: string): number[] | null {
  const parts = host.split("::");
  if (parts.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const head = parse(parts[0]!);
  const tail = parts.length === 2 ? parse(parts[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (parts.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...Array<number>(Math.max(0, missing)).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}
