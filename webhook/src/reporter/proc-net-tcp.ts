// The reporter's count: ESTABLISHED sockets on the app's ports, scanned straight from the text of /proc/net/tcp{,6}.
//
// Line format, IPv4 then IPv6; addresses are /proc hex (net/ip.ts), ports plain hex:
//   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X ..."
//   "%4d: %08X%08X%08X%08X:%04X %08X%08X%08X%08X:%04X %02X ..."
// A busy pod's table is large and the delete guard waits on it, so the scanner reads character
// codes, keeps addresses as raw hex and allocates nothing per line.
import { procHexForms } from '../net/ip.js';

const ESTABLISHED = 0x01;

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
// Scanning.

/** Offsets of one scanned line, reused across lines so that scanning allocates nothing. */
export interface LineScan {
  localStart: number;
  /** 8 (IPv4) or 32 (IPv6) hex digits. */
  addressLength: number;
  localPort: number;
  remoteStart: number;
  remotePort: number;
  state: number;
}

export function newLineScan(): LineScan {
  return { localStart: 0, addressLength: 0, localPort: 0, remoteStart: 0, remotePort: 0, state: 0 };
}

/** Calls `onLine` for every well-formed line of `text`; header, blank and malformed lines are skipped. */
export function scanText(text: string, validateAddresses: boolean, onLine: (scan: LineScan) => void): void {
  const scan = newLineScan();
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
/** Scan text[start, end) as one line into `out`; false for the header, blank or malformed lines. */
export function scanLine(text: string, start: number, end: number, out: LineScan, validateAddresses: boolean): boolean {
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

/** Count ESTABLISHED sockets on the app's ports (and the pod's address, if given) in whole texts. */
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
      if (s.state !== ESTABLISHED) return;
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

// Per-port counters behind a Map built for each count: a port-indexed typed array would allocate off-heap memory on every request.
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
