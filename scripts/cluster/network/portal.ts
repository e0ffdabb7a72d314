// The one way into the sealed cluster namespace from the host: the portal runs inside it and
// listens on a Unix socket in the cluster's state folder (files are not namespaced); a client
// writes "ADDRESS PORT\n" and from then on the socket is a TCP connection to that address, opened
// from inside. The host forwarder, `scripts/local-cluster exec`'s neighbours (the e2e tests and the
// benchmarks) and nothing else use it; nothing inside can use it to get out.
import { createHash } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { httpGet } from '../https-get.js';
import { stateDir } from '../paths.js';

const MAX_HEADER = 256;

/** The portal's socket; Unix socket paths are short (108 bytes), so a long folder gets a temp path. */
export function portalSocketPath(dir = stateDir): string {
  const inDir = path.join(dir, 'portal.sock');
  return inDir.length <= 100 ? inDir : path.join(os.tmpdir(), `rainbow-portal-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
}

/** Parses the header line; undefined when it is not "IPv4-or-localhost PORT". */
export function parseTarget(line: string): { host: string; port: number } | undefined {
  const m = /^(\S+) (\d{1,5})$/.exec(line.trim());
  if (!m || !(m[1] === 'localhost' || net.isIPv4(m[1]!)) || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!, port: Number(m[2]) };
}

/** Joins two sockets both ways; when either side ends or fails, the other is closed too. */
export function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.once('close', close);
  b.once('close', close);
  a.on('error', close);
  b.on('error', close);
}

/** Serves the portal on `socketPath` (inside the cluster namespace). */
export function servePortal(socketPath: string, log: (m: string) => void): Promise<net.Server> {
  rmSync(socketPath, { force: true });
  const server = net.createServer((client) => {
    let header = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      header = Buffer.concat([header, chunk]);
      const nl = header.indexOf(10);
      if (nl < 0) {
        if (header.length > MAX_HEADER) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const target = parseTarget(header.subarray(0, nl).toString('latin1'));
      if (!target) {
        log(`portal: refused a connection with header ${JSON.stringify(header.subarray(0, nl).toString('latin1').slice(0, 80))}`);
        client.destroy();
        return;
      }
      const rest = header.subarray(nl + 1);
      const upstream = net.connect({ ...target, noDelay: true });
      if (rest.length > 0) upstream.write(rest);
      splice(client, upstream);
      client.resume();
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

/** A TCP connection to `host:port` inside the cluster namespace, through the portal. */
export function dialCluster(host: string, port: number, socketPath = portalSocketPath()): net.Socket {
  const socket = net.connect(socketPath);
  socket.write(`${host} ${port}\n`);
  return socket;
}

/** An http.Agent whose connections are opened inside the cluster (pod IPs, ClusterIPs, the node). */
export function clusterAgent(socketPath = portalSocketPath()): http.Agent {
  const agent = new http.Agent({ keepAlive: false });
  (agent as unknown as { createConnection: (o: { host?: string; port?: number }) => net.Socket }).createConnection = (o) =>
    dialCluster(o.host ?? 'localhost', Number(o.port ?? 80), socketPath);
  return agent;
}

/** One GET inside the cluster namespace: the status and the body, or an error naming the URL. */
function getInside(url: string, options: https.RequestOptions, timeoutMs: number): Promise<{ status: number; body: string }> {
  return httpGet(url, options, timeoutMs).catch((err: Error) => {
    throw new Error(`GET ${url} inside the cluster: ${err.message}`);
  });
}

/** GET over plain HTTP inside the cluster namespace: what `curl http://<pod IP>:<port>/path` prints there. */
export function clusterGet(url: string, timeoutMs = 5000, socketPath = portalSocketPath()): Promise<{ status: number; body: string }> {
  return getInside(url, { agent: clusterAgent(socketPath) }, timeoutMs);
}

/** GET over HTTPS inside the cluster namespace, the server checked against `ca`. */
export function clusterHttpsGet(url: string, ca: string | Buffer, timeoutMs = 5000, socketPath = portalSocketPath()): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const agent = new https.Agent({ keepAlive: false });
  (agent as unknown as { createConnection: (o: tls.ConnectionOptions) => tls.TLSSocket }).createConnection = (o) =>
    tls.connect({ ...o, socket: dialCluster(u.hostname, Number(u.port || 443), socketPath) });
  return getInside(url, { agent, ca }, timeoutMs);
}

let nextInsidePort = 20000 + Math.floor(Math.random() * 9000);
/**
 * A port for a process started inside the cluster namespace next to the control plane: the
 * control plane listens below 11000 and NodePorts start at 30000; callers in one process never
 * get the same port twice.
 */
export function insidePort(): number {
  return nextInsidePort++;
}
