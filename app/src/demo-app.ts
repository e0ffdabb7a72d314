// The demo app: an HTTP page painted in the release's color (:8080) and a TCP stream that
// prints `The color is #xxxxxx` every 5 s for as long as the client stays (:8081). On SIGTERM it
// stops accepting but keeps every open stream until the client leaves: exactly the long-lived
// connection rainbow exists to drain.
import http from 'node:http';
import net from 'node:net';
import { cssColor } from '../../webhook/src/domain/contract.js';
import { listen } from '../../webhook/src/runtime/listen.js';

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
    // Whatever the client sends is read and dropped, so a talking client cannot stall the stream.
    socket.on('data', () => {});
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      clearInterval(timer);
      streams.delete(socket);
    });
  });

  const listening = await Promise.allSettled([
    listen(web, { port: opts.httpPort ?? 8080, bind: opts.bind, name: 'app', flag: 'http-port' }),
    listen(tcp, { port: opts.tcpPort ?? 8081, bind: opts.bind, name: 'app', flag: 'tcp-port' }),
  ]);
  const [webL, tcpL] = listening;
  if (webL.status === 'rejected' || tcpL.status === 'rejected') {
    // The one that did listen would keep the process up after the error.
    await Promise.all(listening.map((l) => (l.status === 'fulfilled' ? l.value.close(0) : undefined)));
    throw webL.status === 'rejected' ? webL.reason : (tcpL as PromiseRejectedResult).reason;
  }

  return {
    httpPort: webL.value.port,
    tcpPort: tcpL.value.port,
    streams: () => streams.size,
    shutdown(forceAfterMs) {
      void webL.value.close();
      const force = forceAfterMs === undefined ? undefined : setTimeout(() => streams.forEach((s) => s.destroy()), forceAfterMs);
      return tcpL.value.close().finally(() => clearTimeout(force));
    },
  };
}
