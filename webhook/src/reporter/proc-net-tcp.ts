// Parser for /proc/net/tcp and /proc/net/tcp6, and the count the reporter serves.
//
// Line format (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c):
//   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X ..."            (tcp, IPv4)
//   "%4d: %08X%08X%08X%08X:%04X %08X%08X%08X%08X:%04X %02X ..." (tcp6)
// An address is printed as the 32-bit words of the in-kernel (network-order) bytes read as
// host-order integers, so on little-endian hosts (every Kubernetes node we target: x86-64,
// arm64) each 8-hex-digit word lists its bytes reversed: 127.0.0.1 → 0100007F. Ports are
// converted to host order before printing, so they read as plain hex.
//
// Speed matters: a busy pod can have 100k sockets and the delete guard asks every pod while
// the API server waits. The parser therefore scans character codes instead of splitting each
// line with regexes, and keeps addresses as their raw hex; the readable forms are computed
// only when someone reads them (a count never needs them).

export const TCP_STATES = {
  ESTABLISHED: 0x01,
  SYN_SENT: 0x02,
  SYN_RECV: 0x03,
  FIN_WAIT1: 0x04,
  FIN_WAIT2: 0x05,
  TIME_WAIT: 0x06,
  CLOSE: 0x07,
  CLOSE_WAIT: 0x08,
  LAST_ACK: 0x09,
  LISTEN: 0x0a,
  CLOSING: 0x0b,
} as const;

export type TcpStateName = keyof typeof TCP_STATES | 'UNKNOWN';

// Index = state number. Newer kernels define more states (NEW_SYN_RECV, BOUND_INACTIVE);
// they are kept as UNKNOWN rather than dropped, since the line itself is well formed.
const STATE_NAMES: readonly TcpStateName[] = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
];

export function tcpStateName(state: number): TcpStateName {
  return STATE_NAMES[state] ?? 'UNKNOWN';
}

/** One socket line. Addresses are canonical strings: IPv4 dotted, IPv6 compressed (RFC 5952). */
export interface TcpEntry {
  /** 4 for /proc/net/tcp lines, 6 for /proc/net/tcp6 lines (IPv4-mapped sockets included). */
  readonly family: 4 | 6;
  readonly localAddress: string;
  /** The IPv4 address when local is IPv4 or IPv4-mapped IPv6 (`::ffff:a.b.c.d`), else undefined. */
  readonly localIPv4: string | undefined;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remoteIPv4: string | undefined;
  readonly remotePort: number;
  readonly state: number;
  readonly stateName: TcpStateName;
  /** The address exactly as /proc printed it (8 or 32 hex digits). */
  readonly localHex: string;
  readonly remoteHex: string;
}

// A class with lazy getters, so that 100k entries cost 100k small objects and no address
// formatting unless an address is actually read.
class ProcTcpEntry implements TcpEntry {
  private localCache: string | undefined;
  private remoteCache: string | undefined;

  constructor(
    readonly family: 4 | 6,
    readonly localHex: string,
    readonly localPort: number,
    readonly remoteHex: string,
    readonly remotePort: number,
    readonly state: number,
  ) {}

  get stateName(): TcpStateName {
    return tcpStateName(this.state);
  }
  get localAddress(): string {
    return (this.localCache ??= formatProcAddress(this.localHex));
  }
  get remoteAddress(): string {
    return (this.remoteCache ??= formatProcAddress(this.remoteHex));
  }
  get localIPv4(): string | undefined {
    return procHexToIPv4(this.localHex);
  }
  get remoteIPv4(): string | undefined {
    return procHexToIPv4(this.remoteHex);
  }
  toJSON(): Record<string, unknown> {
    return {
      family: this.family,
      localAddress: this.localAddress,
      localIPv4: this.localIPv4,
      localPort: this.localPort,
      remoteAddress: this.remoteAddress,
      remoteIPv4: this.remoteIPv4,
      remotePort: this.remotePort,
      state: this.state,
      stateName: this.stateName,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Character-level helpers (no allocation).

const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const CR = 0x0d;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/** Value of one hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x41 && c <= 0x46) return c - 0x37; // A-F
  if (c >= 0x61 && c <= 0x66) return c - 0x57; // a-f
  return -1;
}

/** Parse text[start, end) as hex; -1 if empty or not hex. Only for short fields (≤ 8 digits). */
function parseHex(text: string, start: number, end: number): number {
  if (end <= start || end - start > 8) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = hexValue(text.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function allHex(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (hexValue(text.charCodeAt(i)) < 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parsing.

// Offsets of one scanned line, reused across lines so that scanning allocates nothing.
interface LineScan {
  localStart: number;
  /** 8 (IPv4) or 32 (IPv6) hex digits. */
  addressLength: number;
  localPort: number;
  remoteStart: number;
  remotePort: number;
  state: number;
}

function newScan(): LineScan {
  return { localStart: 0, addressLength: 0, localPort: 0, remoteStart: 0, remotePort: 0, state: 0 };
}

/** Calls `onLine` for every well-formed line of `text`; header, blank and malformed lines are skipped. */
function scanText(text: string, validateAddresses: boolean, onLine: (scan: LineScan) => void): void {
  const scan = newScan();
  const n = text.length;
  let start = 0;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    if (scanLine(text, start, end, scan, validateAddresses)) onLine(scan);
    start = end + 1;
  }
}

// Field layout: "sl:" "localhex:port" "remotehex:port" "st" ...; later fields are ignored
// (TIME_WAIT lines, for one, are shorter than the others). Addresses have a fixed width
// (8 or 32), so the scanner jumps over them; checking that they are hex costs more than the
// rest of the line, so the counting path checks it only on the lines it counts.
function scanLine(text: string, start: number, end: number, out: LineScan, validateAddresses: boolean): boolean {
  let i = start;

  // Field 0: slot number followed by ':' ("   0:", "10000:"). This also rejects the header.
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  const slStart = i;
  while (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i === slStart || i >= end || text.charCodeAt(i) !== COLON) return false;
  i++;

  // Field 1: local address:port. The family follows from where the ':' is.
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  const localStart = i;
  let addressLength: number;
  if (localStart + 8 < end && text.charCodeAt(localStart + 8) === COLON) addressLength = 8;
  else if (localStart + 32 < end && text.charCodeAt(localStart + 32) === COLON) addressLength = 32;
  else return false;
  i = localStart + addressLength + 1;
  const lpStart = i;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  if (i - lpStart > 4 || i >= end) return false;
  const localPort = parseHex(text, lpStart, i);
  if (localPort < 0) return false;

  // Field 2: remote address:port; same family as local.
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  const remoteStart = i;
  if (remoteStart + addressLength >= end || text.charCodeAt(remoteStart + addressLength) !== COLON) return false;
  i = remoteStart + addressLength + 1;
  const rpStart = i;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  if (i - rpStart > 4 || i >= end) return false;
  const remotePort = parseHex(text, rpStart, i);
  if (remotePort < 0) return false;

  // Field 3: state, two hex digits.
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  const stStart = i;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  if (i - stStart !== 2) return false;
  const state = parseHex(text, stStart, i);
  if (state < 0) return false;

  if (validateAddresses && !addressesAreHex(text, localStart, remoteStart, addressLength)) return false;

  out.localStart = localStart;
  out.addressLength = addressLength;
  out.localPort = localPort;
  out.remoteStart = remoteStart;
  out.remotePort = remotePort;
  out.state = state;
  return true;
}

function addressesAreHex(text: string, localStart: number, remoteStart: number, length: number): boolean {
  return allHex(text, localStart, localStart + length) && allHex(text, remoteStart, remoteStart + length);
}

function entryFrom(text: string, s: LineScan): TcpEntry {
  return new ProcTcpEntry(
    s.addressLength === 8 ? 4 : 6,
    text.slice(s.localStart, s.localStart + s.addressLength),
    s.localPort,
    text.slice(s.remoteStart, s.remoteStart + s.addressLength),
    s.remotePort,
    s.state,
  );
}

/**
 * Parse the whole text of /proc/net/tcp or /proc/net/tcp6 (both may be concatenated).
 * The header line, blank lines and malformed lines are skipped, never thrown on.
 */
export function parseProcNetTcp(text: string): TcpEntry[] {
  const out: TcpEntry[] = [];
  scanText(text, true, (scan) => out.push(entryFrom(text, scan)));
  return out;
}

/** Parse one line; undefined for the header, blank or malformed lines. */
export function parseProcNetTcpLine(line: string): TcpEntry | undefined {
  const scan = newScan();
  return scanLine(line, 0, line.length, scan, true) ? entryFrom(line, scan) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Address conversion between /proc hex and canonical strings.

/** Bytes in network order from /proc hex (8 or 32 digits, each 32-bit word little-endian). */
export function procHexToBytes(hex: string): Uint8Array {
  if ((hex.length !== 8 && hex.length !== 32) || !allHex(hex, 0, hex.length)) {
    throw new Error(`"${hex}" is not a /proc/net/tcp address: expected 8 or 32 hex digits`);
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    for (let b = 0; b < 4; b++) {
      // Byte b of the word is the (3-b)th hex pair: the word was printed as a LE integer.
      const at = w * 8 + (3 - b) * 2;
      bytes[w * 4 + b] = hexValue(hex.charCodeAt(at)) * 16 + hexValue(hex.charCodeAt(at + 1));
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
  for (let i = 0; i < 16; i++) if (hex.charCodeAt(i) !== 0x30) return false;
  const w2 = hex.slice(16, 24).toUpperCase();
  return w2 === 'FFFF0000';
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

// ---------------------------------------------------------------------------------------------
// Counting.

export interface CountOptions {
  /** The app's ports; only sockets whose local port is one of these count. */
  ports: readonly number[];
  /** The pod's own address; when given, only sockets bound to it (or its IPv4-mapped form) count. */
  podIP?: string;
  /** Ports never counted even if listed in `ports` (the reporter passes its own port). */
  excludePorts?: readonly number[];
}

export interface ConnectionCounts {
  established: number;
  /** Every counted port appears, with 0 when it has no established connection. */
  ports: Record<string, number>;
}

/** Count ESTABLISHED sockets on the app's ports (and the pod's address, if given). */
export function countEstablished(entries: Iterable<TcpEntry>, opts: CountOptions): ConnectionCounts {
  const tally = new Tally(opts);
  for (const e of entries) {
    if (e.state !== TCP_STATES.ESTABLISHED) continue;
    const slot = tally.slotOf(e.localPort);
    if (slot < 0) continue;
    if (tally.addressForms !== undefined && !matchesAny(e.localHex, 0, tally.addressForms)) continue;
    tally.add(slot);
  }
  return tally.result();
}

/**
 * Same answer as `countEstablished(parseProcNetTcp(text), opts)`, without building entries:
 * the reporter's path, so that a pod with 100k sockets is counted in a few milliseconds and
 * with no garbage per socket.
 */
export function countEstablishedInText(texts: string | readonly string[], opts: CountOptions): ConnectionCounts {
  const counter = new EstablishedCounter(opts);
  for (const text of typeof texts === 'string' ? [texts] : texts) counter.add(text);
  return counter.result();
}

/**
 * countEstablishedInText fed piece by piece, each piece a whole number of lines: the reporter
 * reads /proc in fixed-size chunks, so its memory does not grow with the socket table.
 */
export class EstablishedCounter {
  private readonly tally: Tally;

  constructor(opts: CountOptions) {
    this.tally = new Tally(opts);
  }

  add(text: string): void {
    const tally = this.tally;
    const forms = tally.addressForms;
    scanText(text, false, (s) => {
      if (s.state !== TCP_STATES.ESTABLISHED) return;
      const slot = tally.slotOf(s.localPort);
      if (slot < 0) return;
      // Validate only what the count uses: the local address (a match against the pod IP's
      // hex forms already proves it is hex) — the remote one only had its width checked.
      if (forms === undefined ? !allHex(text, s.localStart, s.localStart + s.addressLength)
        : !matchesAnyAt(text, s.localStart, s.addressLength, forms)) return;
      tally.add(slot);
    });
  }

  result(): ConnectionCounts {
    return this.tally.result();
  }
}

// Per-port counters. The port → slot table is a Map, built for each count: a 65,536-entry
// typed array was no faster to look up but allocated 256 KiB outside the V8 heap on every
// request, which kept the reporter's resident memory 1.5-3 MiB higher at 100 requests/s.
class Tally {
  readonly addressForms: readonly string[] | undefined;
  private readonly slots = new Map<number, number>();
  private readonly ports: number[] = [];
  private readonly counts: number[] = [];
  private established = 0;

  constructor(opts: CountOptions) {
    const excluded = new Set(opts.excludePorts ?? []);
    for (const p of opts.ports) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) {
        throw new Error(`port ${p} is not a TCP port; pass the app's ports as integers 1-65535`);
      }
      if (excluded.has(p) || this.slots.has(p)) continue;
      this.slots.set(p, this.ports.length);
      this.ports.push(p);
      this.counts.push(0);
    }
    // Compare raw hex against the pod IP's /proc forms: no address formatting per socket.
    this.addressForms = opts.podIP === undefined ? undefined : procHexForms(opts.podIP);
  }

  slotOf(port: number): number {
    return this.slots.get(port) ?? -1;
  }

  add(slot: number): void {
    this.counts[slot]!++;
    this.established++;
  }

  result(): ConnectionCounts {
    const ports: Record<string, number> = {};
    this.ports.forEach((p, i) => (ports[String(p)] = this.counts[i]!));
    return { established: this.established, ports };
  }
}

function matchesAny(hex: string, at: number, forms: readonly string[]): boolean {
  return matchesAnyAt(hex, at, hex.length, forms);
}

// `forms` are uppercase (as the kernel prints); lowercase input is tolerated without
// allocating, which toUpperCase per socket would do.
function matchesAnyAt(text: string, at: number, length: number, forms: readonly string[]): boolean {
  for (const f of forms) {
    if (f.length !== length) continue;
    let i = 0;
    for (; i < length; i++) {
      let c = text.charCodeAt(at + i);
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== f.charCodeAt(i)) break;
    }
    if (i === length) return true;
  }
  return false;
}
