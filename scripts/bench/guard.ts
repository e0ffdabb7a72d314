// The delete guard against pod count: time for `deleteGuardHandler` to decide a DELETE of a color
// with 10, 100 and 1,000 pods, each asked for its connections over HTTP on an address of its own
// (127.20.x.y, served by a separate process so client and servers do not share an event loop).
// Goal: 1,000 pods under 1.5 s, well inside the webhook's timeout.
import { fork } from 'node:child_process';
import http from 'node:http';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../webhook/src/admission/review.js';
import type { SnapshotReader } from '../../webhook/src/webhook/reads/snapshots.js';
import { deleteGuardHandler } from '../../webhook/src/webhook/handlers.js';
import { quantile, round } from './common.js';
import { fileURLToPath } from 'node:url';

const PORT = 9471;
const ipOf = (i: number) => `127.20.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** Child mode: serve /connections on `n` addresses, then tell the parent. */
async function serve(n: number): Promise<void> {
  const body = JSON.stringify({ established: 0, ports: { '8080': 0, '8081': 0 } });
  const servers: http.Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(PORT, ipOf(i), () => resolve()));
    servers.push(s);
  }
  process.send?.('ready');
  process.on('message', () => process.exit(0));
}

function snapshotOf(n: number): SnapshotReader {
  const labels = { 'rainbow.dev/app': 'web', 'rainbow.dev/color': 'a1b2c3' };
  const deployment: V1Deployment = { metadata: { name: 'web-a1b2c3', namespace: 'bench', labels }, spec: { replicas: n, selector: { matchLabels: labels }, template: {} } };
  const pods: V1Pod[] = Array.from({ length: n }, (_, i) => ({
    metadata: { name: `web-a1b2c3-${i}`, namespace: 'bench', labels },
    status: { phase: 'Running', podIP: ipOf(i) },
  }));
  const service: V1Service = { metadata: { name: 'web', namespace: 'bench', labels: { 'rainbow.dev/app': 'web' } }, spec: { selector: { ...labels, 'rainbow.dev/color': 'b4d5e6' } } };
  return {
    appSnapshot: async () => ({ deployments: [deployment], services: [service] }),
    guardSnapshot: async () => ({ namespacePhase: 'Active', deployment, services: [service], pods, now: new Date() }),
  };
}

function deleteRequest(): AdmissionRequest {
  const labels = { 'rainbow.dev/app': 'web', 'rainbow.dev/color': 'a1b2c3' };
  return {
    uid: 'bench',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    operation: 'DELETE',
    namespace: 'bench',
    name: 'web-a1b2c3',
    userInfo: { username: 'bench' },
    oldObject: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-a1b2c3', namespace: 'bench', labels }, spec: { replicas: 1, selector: { matchLabels: labels } } },
  } as unknown as AdmissionRequest;
}

export async function benchGuard(say: (l: string) => void = console.log) {
  const results: Record<string, { p50Ms: number; maxMs: number; allowed: boolean }> = {};
  for (const n of [10, 100, 1000]) {
    const child = fork(fileURLToPath(import.meta.url), ['serve', String(n)], { stdio: 'inherit' });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`reporter servers exited with ${code}`)));
    });
    try {
      const handler = deleteGuardHandler(snapshotOf(n), { onUnknown: 'deny', podTimeoutMs: 2000, concurrency: 16, budgetMs: 8000 });
      await handler(deleteRequest()); // warm up
      const times: number[] = [];
      let allowed = true;
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        const d = await handler(deleteRequest());
        times.push(performance.now() - t);
        allowed &&= d.allowed;
      }
      if (!allowed) throw new Error(`the guard denied a drained color of ${n} pods`);
      results[n] = { p50Ms: round(quantile(times, 0.5)), maxMs: round(Math.max(...times)), allowed };
      say(`  ${String(n).padStart(5)} pods: decided in ${results[n].p50Ms} ms (max ${results[n].maxMs} ms over 5 runs), allowed`);
    } finally {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    }
  }
  return results;
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]));
