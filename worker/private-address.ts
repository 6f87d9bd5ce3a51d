/**
 * Whether a URL host (as the WHATWG URL parser leaves it: lower case, IPv4 in dotted decimal, IPv6
 * compressed without brackets) names a place inside the network around the mesh: loopback,
 * private, link-local, shared, multicast, reserved and documentation ranges, cloud metadata, and
 * names that only resolve locally. The URL parser already turns every IPv4 spelling (octal, hex,
 * shortened, a single integer, full-width digits, percent-encoding) into dotted decimal; IPv6 is
 * checked by value, including the forms that carry an IPv4 address inside.
 */
export function isPrivateHost(rawHost: string): boolean {
  // A fully qualified name may end in a dot; it names the same host.
  const host = rawHost
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.+$/, "");
  const v4 = parseIPv4(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  if (host.includes(":")) {
    const v6 = parseIPv6(host);
    return v6 === null || isPrivateIPv6(v6);
  }
  return isLocalName(host);
}

/** Names that resolve only inside a network, and the metadata services' names. */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "lan", "home.arpa", "intranet", "corp", "localdomain"];
const METADATA_NAMES = new Set(["metadata", "instance-data", "metadata.google.internal", "metadata.azure.com"]);

function isLocalName(host: string): boolean {
  if (host === "" || METADATA_NAMES.has(host) || !host.includes(".")) return true;
  return LOCAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

function parseIPv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** IPv4 ranges that are not the public internet (RFC 6890 and its updates). */
function isPrivateIPv4([a, b, c]: number[]): boolean {
  return (
    a === 0 || // "this network", 0.0.0.0
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // shared address space (carrier NAT)
    (a === 169 && b === 254) || // link-local, cloud metadata 169.254.169.254
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a >= 224 // multicast, reserved, broadcast
  );
}

/** The 16 bytes of an IPv6 address, or null when it is not one. */
function parseIPv6(host: string): number[] | null {
  let text = host;
  // A trailing dotted IPv4 stands for the last two groups.
  const tail = /:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  let tailBytes: number[] = [];
  if (tail) {
    const v4 = parseIPv4(tail[1]);
    if (v4 === null) return null;
    tailBytes = v4;
    text = `${text.slice(0, tail.index)}:0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const bytes = all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail) bytes.splice(12, 4, ...tailBytes);
  return bytes;
}

const startsWith = (bytes: number[], prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
const allZero = (bytes: number[]) => bytes.every((b) => b === 0);

/** The IPv4 address an IPv6 address carries, in the forms that route to it. */
function embeddedIPv4(bytes: number[]): number[] | null {
  const last4 = bytes.slice(12);
  if (allZero(bytes.slice(0, 10))) {
    const marker = (bytes[10] << 8) | bytes[11];
    if (marker === 0 || marker === 0xffff) return last4; // IPv4-compatible ::a.b.c.d, IPv4-mapped ::ffff:a.b.c.d
  }
  if (startsWith(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0])) return last4; // IPv4-translated
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return last4; // NAT64 64:ff9b::/96
  if (startsWith(bytes, [0x20, 0x02])) return bytes.slice(2, 6); // 6to4 2002::/16
  return null;
}

/** IPv6 ranges that are not the public internet; an address that carries an IPv4 one is judged by it. */
function isPrivateIPv6(bytes: number[]): boolean {
  const v4 = embeddedIPv4(bytes);
  if (v4 !== null) return isPrivateIPv4(v4);
  const [b0, b1] = bytes;
  return (
    b0 === 0 || // the rest of ::/8: reserved, local-use NAT64 64:ff9b:1::/48, discard-only 100::/64 below
    startsWith(bytes, [0x01, 0, 0, 0, 0, 0, 0, 0]) ||
    startsWith(bytes, [0x20, 0x01, 0, 0]) || // Teredo hides the address it reaches: refused
    startsWith(bytes, [0x20, 0x01, 0x0d, 0xb8]) || // documentation
    (b0 & 0xfe) === 0xfc || // unique local fc00::/7 (AWS metadata fd00:ec2::254)
    (b0 === 0xfe && (b1 & 0xc0) === 0x80) || // link-local fe80::/10
    (b0 === 0xfe && (b1 & 0xc0) === 0xc0) || // site-local fec0::/10 (deprecated)
    b0 === 0xff // multicast
  );
}
