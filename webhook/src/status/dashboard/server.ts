// The dashboard's HTTP server (node:http): the page, its script and style sheet, the chart library
// straight from node_modules, the current snapshot, the chart series, and a server-sent event
// stream of snapshots. Read-only, GET and HEAD only, a strict Content-Security-Policy.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { DashboardSnapshot } from './view.js';
import type { SeriesView } from './feed.js';
import { DASHBOARD_JS } from './client.js';
import { DASHBOARD_CSS, FAVICON_SVG, INDEX_HTML } from './page.js';
import { isWindowName, WINDOW_NAMES, type WindowName } from './samples.js';

/** What the server serves from: the feed (DashboardFeed) or a stand-in in tests. */
export interface SnapshotSource {
  snapshot(): DashboardSnapshot;
  series(window: WindowName, app?: string): SeriesView;
  subscribe(listener: (s: DashboardSnapshot) => void): () => void;
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The chart library's files, by the path the page asks for, as the uplot package ships them. */
export const VENDOR_FILES: Record<string, { module: string; type: string }> = {
  '/vendor/uPlot.iife.min.js': { module: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/vendor/uPlot.min.css': { module: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

const OWN_FILES: Record<string, { body: string; type: string }> = {
  '/': { body: INDEX_HTML, type: 'text/html; charset=utf-8' },
  '/index.html': { body: INDEX_HTML, type: 'text/html; charset=utf-8' },
  '/dashboard.js': { body: DASHBOARD_JS, type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { body: DASHBOARD_CSS, type: 'text/css; charset=utf-8' },
  '/favicon.svg': { body: FAVICON_SVG, type: 'image/svg+xml' },
};

const resolveFrom = createRequire(import.meta.url);
const vendorCache = new Map<string, Buffer>();

/** A vendor file's bytes, read from the installed package once. */
export function vendorFile(module: string): Buffer {
  let body = vendorCache.get(module);
  if (!body) {
    let file: string;
    try {
      file = resolveFrom.resolve(module);
    } catch (err) {
      throw new Error(`${module} is not installed (${(err as Error).message}); run npm ci in the rainbow package`, { cause: err });
    }
    body = readFileSync(file);
    vendorCache.set(module, body);
  }
  return body;
}

/** One server-sent event carrying `data` as JSON on one line (JSON.stringify escapes newlines). */
export function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether the Host header names this server, so a page of another site cannot read it through a DNS name pointed at 127.0.0.1. */
export function hostAllowed(hostHeader: string | undefined, bind: string | undefined): boolean {
  if (bind === undefined || bind === '0.0.0.0' || bind === '::') return true; // listening everywhere: any name of the machine may be used
  if (!hostHeader) return false;
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === bind.toLowerCase() || name === `[${bind.toLowerCase()}]`;
}

export interface DashboardServerOptions {
  /** The bound address, for the Host check. */
  bind?: string;
  /** SSE comment lines keep idle streams open through proxies (default 15 s). */
  heartbeatMs?: number;
  /** Tells EventSource how soon to reconnect (default 2 s). */
  retryMs?: number;
}

export interface DashboardServer {
  server: http.Server;
  /** Ends every event stream (before closing the server, which waits for open requests). */
  closeStreams(): void;
  /** Event streams open now. */
  streamCount(): number;
}

export function createDashboardServer(source: SnapshotSource, opts: DashboardServerOptions = {}): DashboardServer {
  const streams = new Set<http.ServerResponse>();
  const heartbeatMs = opts.heartbeatMs ?? 15_000;

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}, head = false) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
    res.end(head ? undefined : body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown, head: boolean) =>
    send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, { 'Cache-Control': 'no-store' }, head);

  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, 405, 'text/plain; charset=utf-8', `${req.method} is not supported: the dashboard is read-only (GET and HEAD)\n`, { Allow: 'GET, HEAD' });
      return;
    }
    if (!hostAllowed(req.headers.host, opts.bind)) {
      send(res, 421, 'text/plain; charset=utf-8', `Host ${req.headers.host ?? '(none)'} is not this dashboard's address; open it at http://${opts.bind === '::1' ? '[::1]' : (opts.bind ?? 'localhost')}:PORT\n`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const own = OWN_FILES[url.pathname];
    if (own) {
      send(res, 200, own.type, own.body, { 'Cache-Control': 'no-cache' }, head);
      return;
    }
    const vendor = VENDOR_FILES[url.pathname];
    if (vendor) {
      let body: Buffer;
      try {
        body = vendorFile(vendor.module);
      } catch (err) {
        send(res, 500, 'text/plain; charset=utf-8', `${(err as Error).message}\n`);
        return;
      }
      send(res, 200, vendor.type, body, { 'Cache-Control': 'no-cache' }, head);
      return;
    }
    switch (url.pathname) {
      case '/healthz':
        send(res, 200, 'text/plain; charset=utf-8', 'ok\n', { 'Cache-Control': 'no-store' }, head);
        return;
      case '/api/snapshot':
        json(res, 200, source.snapshot(), head);
        return;
      case '/api/series': {
        const window = url.searchParams.get('window') ?? '15m';
        if (!isWindowName(window)) {
          json(res, 400, { error: `window must be one of ${WINDOW_NAMES.join(', ')}, got ${JSON.stringify(window)}` }, head);
          return;
        }
        const app = url.searchParams.get('app') ?? undefined;
        json(res, 200, source.series(window, app), head);
        return;
      }
      case '/api/events': {
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        if (head) {
          res.end();
          return;
        }
        res.write(`retry: ${opts.retryMs ?? 2000}\n\n`);
        res.write(sseFrame(source.snapshot()));
        streams.add(res);
        const unsubscribe = source.subscribe((s) => res.write(sseFrame(s)));
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
        heartbeat.unref();
        const done = () => {
          clearInterval(heartbeat);
          unsubscribe();
          streams.delete(res);
        };
        res.on('close', done);
        req.on('close', done);
        return;
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', `nothing at ${url.pathname}; the dashboard is at /\n`, { 'Cache-Control': 'no-store' }, head);
    }
  });
  return {
    server,
    closeStreams: () => {
      for (const res of streams) res.end();
      streams.clear();
    },
    streamCount: () => streams.size,
  };
}
