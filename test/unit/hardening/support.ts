// Shared pieces of the hardening tests: an in-memory SnapshotReader, local-only servers, and
// helpers to wait for the event loop to settle. Everything listens on 127.0.0.1 only.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { SnapshotReader } from '../../../webhook/src/webhook/reads/snapshots.js';

export const LOCALHOST = '127.0.0.1';

/** What the in-memory reader answers; tests replace it between requests. */
export interface Snapshots {
  services: V1Service[];
  deployments: V1Deployment[];
  pods: V1Pod[];
  namespacePhase?: string;
  /** What guardSnapshot passes as snapshot.deployment (the fetched one). */
  deployment?: V1Deployment | null;
  now?: Date;
}

export function memoryReader(get: (req: Parameters<SnapshotReader['appSnapshot']>[0]) => Snapshots): SnapshotReader {
  return {
    async appSnapshot(req) {
      const s = get(req);
      return { deployments: s.deployments, services: s.services };
    },
    async guardSnapshot(req) {
      const s = get(req);
      const snap = { services: s.services, pods: s.pods, now: s.now ?? new Date() } as Awaited<ReturnType<SnapshotReader['guardSnapshot']>> & object;
      if (s.namespacePhase !== undefined) snap.namespacePhase = s.namespacePhase;
      if (s.deployment !== undefined) snap.deployment = s.deployment;
      return snap;
    },
  };
}

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: LOCALHOST }, () => resolve((server.address() as AddressInfo).port));
  });
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}

/** A TCP server that accepts and never answers; `close()` drops whatever is still connected. */
export async function holdingServer(): Promise<{ port: number; server: net.Server; accepted: () => number; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    // Read (and drop) what comes, so that the peer's FIN is seen and the socket closes with it.
    s.resume();
  });
  const port = await listen(server);
  return {
    port,
    server,
    accepted: () => accepted,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** An HTTP server on 127.0.0.1 answering GET /connections/<n> with n established connections. */
export async function countingServer(): Promise<{ port: number; requests: () => number; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const m = /^\/connections\/(\d+)$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const n = Number(m[1]);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ established: n, ports: { '8080': n } }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    port,
    requests: () => requests,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** A Writable that keeps everything written to it (a pino destination for tests). */
export function buffer(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

/** Counts of process.getActiveResourcesInfo() by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of process.getActiveResourcesInfo()) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

/** Types whose count is above `baseline` (after waiting up to `withinMs` for them to go). */
export async function leakedSince(baseline: Record<string, number>, types: readonly string[], withinMs: number): Promise<Record<string, { before: number; after: number }>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const now = activeResources();
    const leaked: Record<string, { before: number; after: number }> = {};
    for (const t of types) {
      if ((now[t] ?? 0) > (baseline[t] ?? 0)) leaked[t] = { before: baseline[t] ?? 0, after: now[t] ?? 0 };
    }
    if (Object.keys(leaked).length === 0 || Date.now() > deadline) return leaked;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
