// /healthz, /readyz and /metrics of the webhook and the controller, as one node:http listener:
// liveness (the process answers), readiness (the role's own test) and the Prometheus registry.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { metricsHandler } from './metrics.js';

export interface OpsHandlerOptions {
  registry: Registry;
  /** /readyz answers 200 while this is true, else 503. */
  ready: () => boolean;
  /** The line /readyz answers with its 503, saying why. */
  notReady: string;
  /** The line of the 404 for any other request. */
  notFound: (method: string, path: string) => string;
  /** Methods the three paths answer; any other goes to the 404. Default: every method. */
  methods?: readonly string[];
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, line: string): void {
  const body = `${line}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function opsHandler(opts: OpsHandlerOptions): RequestListener {
  const metrics = metricsHandler(opts.registry);
  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const allowed = opts.methods === undefined || opts.methods.includes(method);
    if (allowed && path === '/healthz') return sendText(req, res, 200, 'ok');
    if (allowed && path === '/readyz') return opts.ready() ? sendText(req, res, 200, 'ok') : sendText(req, res, 503, opts.notReady);
    if (allowed && path === '/metrics') return metrics(req, res);
    sendText(req, res, 404, opts.notFound(method, path));
  };
}
