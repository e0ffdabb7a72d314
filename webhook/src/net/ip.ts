// IP addresses as text, as bytes and as /proc/net/tcp{,6} hex: the reporter matches sockets to the pod's IP.
// /proc prints each 32-bit word of an address as a host-order integer, so on little-endian nodes its bytes read reversed (127.0.0.1 → 0100007F).

/** Bytes in network order from /proc hex (8 or 32 digits, each 32-bit word little-endian). */
export function procHexToBytes(hex: string): Uint8Array {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]*$/.test(hex)) {
    throw new Error(`"${hex}" is not a /proc/net/tcp address: expected 8 or 32 hex digits`);
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    for (let b = 0; b < 4; b++) {
      // Byte b of the word is the (3-b)th hex pair: the word was printed as a little-endian integer.
      const at = w * 8 + (3 - b) * 2;
      bytes[w * 4 + b] = parseInt(hex.slice(at, at + 2), 16);
    }
  }
  return bytes;
}

/** Inverse of procHexToBytes: the uppercase hex /proc would print for these bytes. */
export function bytesToProcHex(bytes: Uint8Array): string {
  let s = '';
  for (let w = 0; w < bytes.length / 4; w++) {
    for (let b = 3; b >= 0; b--) s += bytes[w * 4 + b]!.toString(16).padStart(2, '0');
  }
  return s.toUpperCase();
}

/** Canonical string for a /proc address: IPv4 dotted, IPv6 compressed, mapped as ::ffff:a.b.c.d. */
export function formatProcAddress(hex: string): string {
  return formatIPBytes(procHexToBytes(hex));
}

/** The IPv4 address behind /proc hex if it is IPv4 or IPv4-mapped IPv6, else undefined. */
export function procHexToIPv4(hex: string): string | undefined {
  if (hex.length === 8) return formatIPBytes(procHexToBytes(hex));
  if (hex.length === 32 && isMappedProcHex(hex)) {
    return formatIPBytes(procHexToBytes(hex.slice(24)));
  }
  return undefined;
}

// ::ffff:0:0/96 prints as 0000000000000000FFFF0000xxxxxxxx (word 2 = bytes 00 00 ff ff).
function isMappedProcHex(hex: string): boolean {
  return hex.startsWith('0000000000000000') && hex.slice(16, 24).toUpperCase() === 'FFFF0000';
}

function isMappedBytes(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 for IPv6, dotted tail for IPv4-mapped). */
export function formatIPBytes(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new Error(`an IP address has 4 or 16 bytes, got ${b.length}`);
  if (isMappedBytes(b)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;

  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b[i]! * 256 + b[i + 1]!);
  // The longest run of at least two zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Bytes of a textual IP address (IPv4 dotted, or IPv6 with optional `::`, dotted tail and
 * `%zone`), or undefined when it is not one.
 */
export function parseIP(text: string): Uint8Array | undefined {
  const s = text.trim();
  if (s.includes(':')) return parseIPv6(s);
  return parseIPv4(s);
}

function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (p.length === 0 || p.length > 3 || !/^\d+$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseIPv6(input: string): Uint8Array | undefined {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);

  // A dotted IPv4 tail supplies the last two groups.
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    tail = parseIPv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }

  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const gs: number[] = [];
    for (const g of part.split(':')) {
      if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return undefined;
      gs.push(parseInt(g, 16));
    }
    return gs;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;

  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/** Canonical form of a textual IP address (as this module prints them), or undefined. */
export function canonicalIP(text: string): string | undefined {
  const b = parseIP(text);
  return b ? formatIPBytes(b) : undefined;
}

/**
 * The /proc hex strings under which a socket bound to `ip` can appear: an IPv4 address shows
 * up in /proc/net/tcp and, for dual-stack sockets, as ::ffff:a.b.c.d in /proc/net/tcp6.
 */
export function procHexForms(ip: string): string[] {
  const b = parseIP(ip);
  if (!b) throw new Error(`"${ip}" is not an IP address; pass the pod's own IPv4 or IPv6 address`);
  const v4 = b.length === 4 ? b : isMappedBytes(b) ? b.subarray(12) : undefined;
  if (v4) {
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped.set(v4, 12);
    return [bytesToProcHex(v4), bytesToProcHex(mapped)];
  }
  return [bytesToProcHex(b)];
}
