// How long a client may take and how many may be connected, for every HTTP(S) server of rainbow
// (webhook, controller metrics, reporter): a client that trickles its headers, never ends its
// body or opens connection after connection is dropped, and the server keeps answering the rest.
// Types only from node:http and node:net: the reporter loads this module and must not load node:http.
import type { ServerOptions } from 'node:http';
import type { Server } from 'node:net';

export interface ServerLimits {
  /** Until the request's headers are in; a slower client is answered 408 and dropped. */
  headersTimeoutMs: number;
  /** Until the whole request (headers and body) is in; a slower client is answered 408 and dropped. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** Why the cap is where it is, for the log line of a dropped connection. */
  reason: string;
}

/** How often open connections are checked against the timeouts: well under the shortest of them. */
export function checkingIntervalMs(l: Pick<ServerLimits, 'headersTimeoutMs'>): number {
  return Math.max(50, Math.min(1_000, Math.floor(l.headersTimeoutMs / 5)));
}

/** The limits a node:http or node:https server takes at creation (the checking interval can only be set there). */
export function serverOptions(l: ServerLimits): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'> {
  if (l.headersTimeoutMs > l.requestTimeoutMs) throw new Error(`server limits: headersTimeoutMs ${l.headersTimeoutMs} is longer than requestTimeoutMs ${l.requestTimeoutMs}`);
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(l),
  };
}

export interface DroppedConnections {
  /** Connections closed at accept since the last line. */
  dropped: number;
  maxConnections: number;
  reason: string;
  /** The last one's peer. */
  remoteAddress?: string;
}

/**
 * Caps the server's connections. `onDropped` is called at most once per `logEveryMs` with what
 * was dropped since, so a flood of connections does not become a flood of log lines.
 */
export function capConnections(server: Server, l: ServerLimits, onDropped: (d: DroppedConnections) => void, logEveryMs = 10_000): void {
  server.maxConnections = l.maxConnections;
  let dropped = 0;
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (dropped === 0) return;
    onDropped({ dropped, maxConnections: l.maxConnections, reason: l.reason, remoteAddress: last });
    dropped = 0;
  };
  server.on('drop', (data?: { remoteAddress?: string }) => {
    dropped += 1;
    last = data?.remoteAddress;
    if (timer) return;
    flush();
    timer = setTimeout(flush, logEveryMs);
    timer.unref();
  });
  server.once('close', () => {
    if (timer) clearTimeout(timer);
    flush();
  });
}
