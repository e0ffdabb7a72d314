// The seed's demo app: an HTTP page painted in the release's color (:8080) and a TCP stream that
// prints `The color is #xxxxxx` every 5 s for as long as the client stays (:8081). On SIGTERM it
// stops accepting but keeps every open stream until the client leaves: exactly the long-lived
// connection rainbow exists to drain.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { cssColor } from '../../webhook/src/domain/contract.js';

export interface DemoAppOptions {
  color: string;
  bind?: string;
  httpPort?: number;
  tcpPort?: number;
  intervalMs?: number;
}

export interface DemoApp {
  httpPort: number;
  tcpPort: number;
  /** Open TCP streams right now. */
  streams(): number;
  /** Stop accepting; resolves once every open stream has closed (or `forceAfterMs` passed). */
  shutdown(forceAfterMs?: number): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function colorLine(color: string): string {
  return `The color is ${cssColor(color) ?? `#${color}`}\n`;
}

export function page(color: string): string {
  const css = cssColor(color) ?? '#808080';
  const title = escapeHtml(`#${color}`);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title>
<style>html,body{height:100%;margin:0}body{display:flex;align-items:center;justify-content:center;background:${css};font-family:system-ui,sans-serif}h1{color:#fff;mix-blend-mode:difference;font-size:12vw;margin:0}</style>
</head>
<body><h1>${title}</h1></body>
</html>
`;
}

function listen(server: net.Server, port: number, bind: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: bind }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startDemoApp(opts: DemoAppOptions): Promise<DemoApp> {
  const interval = opts.intervalMs ?? 5000;
  const streams = new Set<net.Socket>();

  const web = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'X-Rainbow-Color': opts.color }).end(req.method === 'HEAD' ? undefined : page(opts.color));
  });

  const tcp = net.createServer((socket) => {
    streams.add(socket);
    const line = colorLine(opts.color);
    const timer = setInterval(() => socket.write(line), interval);
    socket.write(line);
    // Whatever the client sends is read and dropped (the seed's server stopped working when talked to).
    socket.on('data', () => {});
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      clearInterval(timer);
      streams.delete(socket);
    });
  });

  const [httpPort, tcpPort] = await Promise.all([listen(web, opts.httpPort ?? 8080, opts.bind), listen(tcp, opts.tcpPort ?? 8081, opts.bind)]);

  return {
    httpPort,
    tcpPort,
    streams: () => streams.size,
    shutdown(forceAfterMs) {
      web.close();
      web.closeIdleConnections();
      return new Promise<void>((resolve) => {
        const force = forceAfterMs === undefined ? undefined : setTimeout(() => streams.forEach((s) => s.destroy()), forceAfterMs);
        tcp.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
