// /proc/net/tcp{,6} lines as entry objects, for tests and benchmarks: the reporter only counts, straight from the text.
import { formatProcAddress, procHexForms, procHexToIPv4 } from '../../webhook/src/net/ip.js';
import { countEstablishedInText, newLineScan, scanLine, scanText, type ConnectionCounts, type CountOptions, type LineScan } from '../../webhook/src/reporter/proc-net-tcp.js';

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

// Index = state number; states newer kernels add are UNKNOWN, since the line itself is well formed.
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

// Lazy getters, so that a large table costs one small object per line and no address formatting unless read.
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
  const scan = newLineScan();
  return scanLine(line, 0, line.length, scan, true) ? entryFrom(line, scan) : undefined;
}

/** The reporter's count over parsed entries, to check countEstablishedInText against. */
export function countEstablished(entries: Iterable<TcpEntry>, opts: CountOptions): ConnectionCounts {
  // The counter on no text checks the options as the reporter does and gives every port at 0.
  const counts = countEstablishedInText([], opts);
  const forms = opts.podIP === undefined ? undefined : procHexForms(opts.podIP);
  for (const e of entries) {
    const port = String(e.localPort);
    if (e.state !== TCP_STATES.ESTABLISHED || counts.ports[port] === undefined) continue;
    if (forms !== undefined && !forms.includes(e.localHex.toUpperCase())) continue;
    counts.ports[port]++;
    counts.established++;
  }
  return counts;
}
