// Load: 200 concurrent delete reviews through the HTTP adapter and deleteGuardHandler. Every
// reviewed color has pods; 10% of the reviews have one pod that cannot be asked (half at a port
// on 127.0.0.1 that refuses, half at a local TCP server that accepts and never answers); the
// other pods are a real reporter (fixture /proc files) or a small HTTP server on 127.0.0.1 giving
// a chosen count. All 200 answers must come within the guard's budget (+ margin), each must be
// right, and afterwards no socket, server or timer may remain.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { admissionRoute } from '../../../webhook/src/admission/http.js';
import { startReporter } from '../../../webhook/src/reporter/server.js';
import { deleteGuardHandler } from '../../../webhook/src/webhook/handlers.js';
import { activeResources, closeServer, countingServer, deadPort, holdingServer, leakedSince, listen, memoryReader, sleep, type Snapshots } from './support.js';

const REVIEWS = 200;
const BUDGET_MS = 2_000;
const POD_TIMEOUT_MS = 1_000;
const MARGIN_MS = 3_000; // a loaded 2-core machine
const fixture = (name: string): string => fileURLToPath(new URL(`../reporter/fixtures/${name}`, import.meta.url));

// Closed after the test even when an assertion fails, so that a failure never wedges jest.
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c().catch(() => undefined);
});

interface PodPlan {
  name: string;
  port: number;
  path: string;
  /** Established connections it reports, or why it cannot be asked. */
  answer: number | 'refused' | 'hangs';
}

function deployment(color: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${color}`, namespace: 'shop', labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } },
    spec: { replicas: 3, selector: { matchLabels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } }, template: { metadata: { labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } } } },
  } as V1Deployment;
}

function pod(color: string, p: PodPlan): V1Pod {
  return {
    metadata: {
      name: p.name,
      namespace: 'shop',
      labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color },
      annotations: { 'rainbow.dev/connections-port': String(p.port), 'rainbow.dev/connections-path': p.path },
    },
    status: { phase: 'Running', podIP: '127.0.0.1' },
  } as V1Pod;
}

test(`${REVIEWS} concurrent delete reviews, 10% with an unreachable pod: all answered right within the budget, nothing left open`, async () => {
  const baseline = activeResources();

  const refusedPort = await deadPort();
  const hold = await holdingServer();
  const counts = await countingServer();
  // A real reporter: the fixture pod has 4 established connections (8080: 3, 8081: 1).
  const reporter = await startReporter({
    port: 0,
    bind: '127.0.0.1',
    ports: [8080, 8081],
    podIP: '10.244.1.7',
    procPaths: { tcp: fixture('pod-tcp'), tcp6: fixture('pod-tcp6') },
  });
  const reporterPort = reporter.address.port;
  cleanup.push(() => hold.close(), () => counts.close(), () => reporter.close());

  // The plan: review i deletes color c<i>; 1-3 pods each.
  const plans: PodPlan[][] = [];
  for (let i = 0; i < REVIEWS; i++) {
    const color = `c${i}`;
    const n = 1 + (i % 3);
    const pods: PodPlan[] = [];
    for (let j = 0; j < n; j++) {
      const name = `web-${color}-pod${j}`;
      if (j === 0 && i % 10 === 0) {
        pods.push(i % 20 === 0 ? { name, port: refusedPort, path: '/connections', answer: 'refused' } : { name, port: hold.port, path: '/connections', answer: 'hangs' });
      } else if (i % 7 === 3 && j === n - 1) {
        pods.push({ name, port: reporterPort, path: '/connections', answer: 4 });
      } else {
        // Mostly drained colors; every fifth review has a pod with open connections.
        const established = i % 5 === 1 && j === 0 ? 1 + (i % 4) : 0;
        pods.push({ name, port: counts.port, path: `/connections/${established}`, answer: established });
      }
    }
    plans.push(pods);
  }

  const snapshots = new Map<string, Snapshots>();
  plans.forEach((pods, i) => {
    const color = `c${i}`;
    snapshots.set(`web-${color}`, { namespacePhase: 'Active', services: [], deployments: [], pods: pods.map((p) => pod(color, p)) });
  });
  const reader = memoryReader((req) => snapshots.get(req.name ?? '') ?? { services: [], deployments: [], pods: [] });

  const server = http.createServer(admissionRoute(deleteGuardHandler(reader, { onUnknown: 'deny', podTimeoutMs: POD_TIMEOUT_MS, concurrency: 16, budgetMs: BUDGET_MS })));
  const port = await listen(server);
  cleanup.push(async () => {
    server.closeAllConnections();
    await closeServer(server);
  });

  const review = (i: number) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `load-${i}`,
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: `web-c${i}`,
        namespace: 'shop',
        operation: 'DELETE',
        userInfo: { username: 'alice' },
        object: null,
        oldObject: deployment(`c${i}`),
      },
    });
  // One fresh socket per review (no agent), as the API server's many connections would be.
  const post = (i: number) =>
    new Promise<{ status: number; body: any; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const body = review(i);
      const req = http.request(
        { host: '127.0.0.1', port, path: '/validate/deployments', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), ms: performance.now() - started }));
        },
      );
      req.setTimeout(BUDGET_MS + MARGIN_MS, () => req.destroy(new Error(`review ${i} not answered within ${BUDGET_MS + MARGIN_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });

  const started = performance.now();
  const answers = await Promise.all(plans.map((_, i) => post(i)));
  const elapsed = performance.now() - started;

  expect(elapsed).toBeLessThan(BUDGET_MS + MARGIN_MS);
  let denied = 0;
  plans.forEach((pods, i) => {
    const a = answers[i]!;
    expect(a.status).toBe(200);
    expect(a.body.response.uid).toBe(`load-${i}`);
    const unreachable = pods.find((p) => typeof p.answer !== 'number');
    const total = pods.reduce((n, p) => n + (typeof p.answer === 'number' ? p.answer : 0), 0);
    const message: string = a.body.response.status?.message ?? '';
    if (unreachable) {
      expect(a.body.response.allowed).toBe(false);
      expect(message).toContain(`pod ${unreachable.name} (127.0.0.1:${unreachable.port}`);
      expect(message).toContain(unreachable.answer === 'refused' ? 'connection refused' : `timeout after ${POD_TIMEOUT_MS} ms`);
    } else if (total > 0) {
      expect(a.body.response.allowed).toBe(false);
      expect(message).toContain(`${total} established connection${total === 1 ? '' : 's'} still open`);
      for (const p of pods) if (typeof p.answer === 'number' && p.answer > 0) expect(message).toContain(`${p.name}: ${p.answer}`);
    } else {
      expect(a.body.response).toMatchObject({ allowed: true, status: { message: expect.stringContaining(`has no established connections on ${pods.length} pod`) } });
    }
    if (!a.body.response.allowed) denied++;
  });
  // The mix is what the test says it is: 20 unreachable, some busy, most drained.
  expect(plans.filter((p) => p.some((x) => typeof x.answer !== 'number'))).toHaveLength(REVIEWS / 10);
  expect(denied).toBeGreaterThan(REVIEWS / 10);
  expect(denied).toBeLessThan(REVIEWS);
  expect(hold.accepted()).toBe(REVIEWS / 20);

  // The guard closed its side of every socket, including those to the pod that never answers.
  const deadline = Date.now() + 3_000;
  while ((hold.open() > 0 || counts.open() > 0) && Date.now() < deadline) await sleep(50);
  expect({ hanging: hold.open(), counting: counts.open() }).toEqual({ hanging: 0, counting: 0 });

  for (const c of cleanup.splice(0)) await c();

  // AbortSignal.timeout(budget) timers are unref'd; wait past the budget so they are gone too.
  const leaked = await leakedSince(baseline, ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'TTYWrap', 'FSReqCallback', 'GetAddrInfoReqWrap'], BUDGET_MS + MARGIN_MS);
  expect(leaked).toEqual({});
}, 30_000);
