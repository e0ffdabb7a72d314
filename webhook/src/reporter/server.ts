// The reporter: `rainbow reporter`, a sidecar in every app pod that answers
// GET /connections with the number of ESTABLISHED TCP connections on the app's ports
// (README, "rainbow reporter"). It reads /proc at request time, so the answer is as fresh as the
// question; it exposes counts only — no addresses, no socket details.
//
// Plain node:http: one route does not need a framework, and the sidecar should stay small.

import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DEFAULTS } from '../domain/contract.js';
import { listen } from '../runtime/listen.js';
import { capConnections, serverOptions, type DroppedConnections, type ServerLimits } from '../runtime/server-limits.js';
import { procHexForms } from '../net/ip.js';
import { EstablishedCounter, type ConnectionCounts } from './proc-net-tcp.js';

// getBuiltinModule, not `import`: an ES import of node:http reads its lazy WebSocket getters,
// which load undici (memory the sidecar never uses, and WebAssembly that `--jitless` forbids).
const http = process.getBuiltinModule('node:http');
const { closeSync, openSync, readSync } = process.getBuiltinModule('node:fs');

export interface ProcNetPaths {
  /** IPv4 sockets; must be readable, or the reporter answers 500 (never a false 0). */
  tcp: string;
  /** IPv6 and IPv4-mapped sockets; absent when the kernel runs without IPv6, which is fine. */
  tcp6: string;
}

export const DEFAULT_PROC_NET_PATHS: ProcNetPaths = { tcp: '/proc/net/tcp', tcp6: '/proc/net/tcp6' };

export interface CountOptionsForRead {
  ports: readonly number[];
  podIP?: string;
  excludePorts?: readonly number[];
  procPaths?: ProcNetPaths;
}

/** Read /proc/net/tcp{,6} now and count. Rejects when /proc/net/tcp cannot be read. */
export async function readConnectionCounts(opts: CountOptionsForRead): Promise<ConnectionCounts> {
  const paths = opts.procPaths ?? DEFAULT_PROC_NET_PATHS;
  const counter = new EstablishedCounter({ ports: opts.ports, podIP: opts.podIP, excludePorts: opts.excludePorts });
  await countFile(paths.tcp, false, counter);
  await countFile(paths.tcp6, true, counter);
  return counter.result();
}

// /proc/net/tcp lists every socket of the network namespace (thousands on a busy node): read it
// in 64 KiB chunks into one buffer instead of as a whole string, so the reporter's memory stays
// flat whatever the size of the table and however often it is asked. The reads are synchronous:
// /proc is served from kernel memory in microseconds, and keeping them off libuv's thread pool
// keeps glibc from growing a malloc arena per pool thread (tens of MB of RSS in every pod).
const CHUNK_BYTES = 64 * 1024;
const chunk = Buffer.allocUnsafe(CHUNK_BYTES);

async function countFile(path: string, mayBeMissing: boolean, counter: EstablishedCounter): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (mayBeMissing && code === 'ENOENT') return;
    throw new Error(
      `cannot read ${path} (${code ?? (err as Error).message}); ` +
        'the reporter needs the pod network namespace /proc mounted read-only',
      { cause: err },
    );
  }
  try {
    let carry = '';
    // /proc files report size 0: read until a read returns nothing.
    for (;;) {
      const bytesRead = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const text = carry + chunk.toString('latin1', 0, bytesRead);
      const lastNewline = text.lastIndexOf('\n');
      if (lastNewline < 0) {
        carry = text;
        continue;
      }
      counter.add(text.slice(0, lastNewline + 1));
      carry = text.slice(lastNewline + 1);
    }
    if (carry) counter.add(carry);
  } finally {
    closeSync(fd);
  }
}

export interface ReporterHandlerOptions {
  /** The app's ports (`--ports 8080,8081`). */
  ports: readonly number[];
  /** The pod's own address (`--pod-ip` or env POD_IP); without it every local address counts. */
  podIP?: string;
  procPaths?: ProcNetPaths;
  /** Ports never counted; startReporter adds its own listening port. */
  excludePorts?: readonly number[] | (() => readonly number[]);
  /** Called with every failure to read /proc (the client gets a 500). */
  onError?: (err: Error) => void;
}

/**
 * The request listener, usable on any node:http server (and with supertest).
 * GET/HEAD /connections → 200 counts; other methods on /connections → 405; other paths → 404.
 */
export function createReporterListener(opts: ReporterHandlerOptions): RequestListener {
  validateHandlerOptions(opts);
  const excludePorts = (): readonly number[] =>
    typeof opts.excludePorts === 'function' ? opts.excludePorts() : (opts.excludePorts ?? []);

  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== DEFAULTS.connectionsPath) {
      sendJSON(res, 404, { error: `no such endpoint ${path}; the reporter serves only GET ${DEFAULTS.connectionsPath}` });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJSON(res, 405, { error: `method ${req.method} not allowed on ${path}; use GET` });
      return;
    }
    readConnectionCounts({ ports: opts.ports, podIP: opts.podIP, excludePorts: excludePorts(), procPaths: opts.procPaths })
      .then((counts) => sendJSON(res, 200, counts))
      .catch((err: Error) => {
        opts.onError?.(err);
        // A failure must never read as "0 connections": the guard would let the color go.
        sendJSON(res, 500, { error: err.message });
      });
  };
}

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function validateHandlerOptions(opts: ReporterHandlerOptions): void {
  if (opts.ports.length === 0) {
    throw new Error('the reporter needs the app ports to count (--ports 8080,8081)');
  }
  for (const p of opts.ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      throw new Error(`--ports: ${p} is not a TCP port; give integers 1-65535 separated by commas`);
    }
  }
  if (opts.podIP !== undefined) {
    try {
      procHexForms(opts.podIP);
    } catch {
      throw new Error(`--pod-ip "${opts.podIP}" is not an IP address; pass the pod's status.podIP (env POD_IP)`);
    }
  }
}

/**
 * Its clients are the webhook, the controller and `rainbow status`, each with a short timeout of
 * its own and one question at a time per pod: anything slower, or more of them, is not a client
 * worth a socket.
 */
export const REPORTER_LIMITS: ServerLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 64,
  reason: 'the webhook, the controller and rainbow status ask a pod one question at a time',
};

export interface ReporterOptions extends Omit<ReporterHandlerOptions, 'excludePorts'> {
  /** Listening port; default DEFAULTS.connectionsPort. 0 picks a free port (tests). */
  port?: number;
  /** Default REPORTER_LIMITS. */
  limits?: ServerLimits;
  /** Told about connections dropped at accept (at most one call per 10 s). */
  onDropped?: (d: DroppedConnections) => void;
  /** Listening address (`--bind` / RAINBOW_BIND_ADDRESS); undefined listens on all interfaces. */
  bind?: string;
}

export interface RunningReporter {
  server: Server;
  address: AddressInfo;
  /** Base URL, e.g. http://127.0.0.1:9471 */
  url: string;
  /** Stop listening and drop idle keep-alive sockets; resolves once the server is closed. */
  close(): Promise<void>;
}

/** Start the reporter server; resolves once it listens. */
export async function startReporter(opts: ReporterOptions): Promise<RunningReporter> {
  const port = opts.port ?? DEFAULTS.connectionsPort;
  let ownPort = port;
  const listener = createReporterListener({ ...opts, excludePorts: () => [ownPort] });
  const limits = opts.limits ?? REPORTER_LIMITS;
  const server = http.createServer(serverOptions(limits), listener);
  capConnections(server, limits, opts.onDropped ?? (() => undefined));

  const listening = await listen(server, { port, bind: opts.bind, name: 'reporter', flag: 'port' });
  ownPort = listening.port;
  return { server, address: listening.address, url: listening.url, close: () => listening.close() };
}
