// Admission round trip: autocannon POSTs a realistic Service UPDATE AdmissionReview (Helm asking
// web to switch to a color that is not Available yet, so the webhook keeps the serving one and
// answers with a JSON patch and a warning) to a real `rainbow webhook` process over HTTPS. The
// webhook is pinned to one core (taskset) and reads the local cluster, once from its watch
// caches (`--reads cache`, the default) and once with a GET/LIST per review (`--reads live`), at
// 1 and 64 connections as fast as it answers, then (caches) at a steady 1,000 reviews/s. The API
// server's own request counters say how many LISTs each review cost.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { up } from '../cluster/control-plane.js';
import { httpsGet } from '../cluster/https-get.js';
import { kubeconfigPath, repoRoot } from '../cluster/paths.js';
import { eventually } from '../cluster/poll.js';
import { benchColor, benchService } from './cluster-objects.js';
import { percentiles, round, type Percentiles } from './common.js';
import { sumMetric } from '../cluster/metrics-text.js';
import { startWebhookProcess, type WebhookProcess } from './webhook-process.js';

type Reads = 'cache' | 'live';

export interface AdmissionRun {
  reads: Reads;
  connections: number;
  /** Offered load in reviews/s; undefined: as fast as the webhook answers. */
  rate?: number;
  seconds: number;
  requests: number;
  reviewsPerSecond: number;
  latencyMs: Percentiles;
  /** Non-2xx answers, socket errors and timeouts: must all be 0 for the run to count. */
  failures: number;
  /** LIST calls the API server served to the webhook during the run, per review. */
  listsPerReview: number;
}

export interface AdmissionResult {
  review: string;
  webhookCpu: string;
  runs: AdmissionRun[];
}

const SERVING = '3c3fdc';
const NEXT = 'b2c3d4';
const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'admission', 'service-update-new-color.json');

/** LISTs of the objects the webhook reads, served by the API server so far (apiserver_request_total). */
async function listCount(kc: KubeConfig): Promise<number> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const { body: text } = await httpsGet(`${kc.getCurrentCluster()!.server}/metrics`, opts);
  return ['deployments', 'services'].reduce((n, resource) => n + sumMetric(text, 'apiserver_request_total', `resource="${resource}",scope="namespace",subresource="",verb="LIST"`), 0);
}

function post(w: WebhookProcess, body: string): Promise<{ status: number; json: { response?: { allowed?: boolean; patchType?: string; warnings?: string[] } } }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${w.url}/mutate/services?timeout=10s`, { method: 'POST', ca: w.ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One autocannon run, each connection sending its next review as soon as the last is answered.
 * Latencies come from its 'response' events (hrtime, fractional ms): its own histogram rounds
 * to whole milliseconds.
 */
function cannon(w: WebhookProcess, body: string, connections: number, seconds: number): Promise<{ result: autocannon.Result; ms: number[] }> {
  const ms: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${w.url}/mutate/services?timeout=10s`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        duration: seconds,
        tlsOptions: { ca: w.ca },
      } as autocannon.Options,
      (err, result) => (err ? reject(err) : resolve({ result, ms })),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseMs: number) => {
      if (status === 200) ms.push(responseMs);
    });
  });
}

/**
 * Reviews at a steady rate: review i is sent at t0 + i/rate over a keep-alive pool of up to
 * `sockets` connections, and its latency counts from that scheduled moment (so a stalled
 * webhook cannot hide behind a sender that waited for it), after 2 s at the same rate that open
 * the pool's connections. autocannon's own rate limit sends each
 * connection's quota for a second in one burst at the start of the second, which measures how a
 * burst of `rate` reviews drains rather than latency at that rate; it is used for the runs
 * without a rate.
 */
async function paced(w: WebhookProcess, body: string, rate: number, seconds: number, sockets: number): Promise<{ ms: number[]; failures: number }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ca: w.ca });
  const run = async (count: number) => {
    const ms: number[] = [];
    let failures = 0;
    const one = (scheduled: number) =>
      new Promise<void>((resolve) => {
        const req = https.request(`${w.url}/mutate/services?timeout=10s`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) ms.push(performance.now() - scheduled);
            else failures++;
            resolve();
          });
        });
        req.on('error', () => {
          failures++;
          resolve();
        });
        req.end(body);
      });
    const t0 = performance.now() + 50;
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const at = t0 + (i * 1000) / rate;
      const wait = at - performance.now();
      if (wait > 1) await sleep(wait);
      // Timed from the earlier of its moment and its sending: one sent late (the sender itself held
      // up) still counts from its moment, one sent a moment early (timers have 1 ms steps) from
      // when it went out.
      inFlight.push(one(Math.min(at, performance.now())));
    }
    await Promise.all(inFlight);
    return { ms, failures };
  };
  try {
    // Open the pool's connections (TLS handshakes) first, as a running API server has them.
    await run(rate * 2);
    return await run(rate * seconds);
  } finally {
    agent.destroy();
  }
}

export async function benchAdmission(say: (l: string) => void = console.log, seconds = 10): Promise<AdmissionResult> {
  await up();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const ns = `bench-admission-${Date.now().toString(36)}`;
  // The webhook gets one core of its own; autocannon and the cluster share the rest.
  const cpu = os.cpus().length > 1 && spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? '0' : undefined;
  const body = readFileSync(FIXTURE, 'utf8').replaceAll('"shop"', JSON.stringify(ns));
  const runs: AdmissionRun[] = [];
  await core.createNamespace({ body: { metadata: { name: ns } } });
  try {
    await apps.createNamespacedDeployment({ namespace: ns, body: benchColor('web', SERVING) });
    await apps.createNamespacedDeployment({ namespace: ns, body: benchColor('web', NEXT, { runnable: false }) });
    await core.createNamespacedService({ namespace: ns, body: benchService('web', SERVING) });
    await eventually(`web-${SERVING} Available`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `web-${SERVING}` })), 60_000);

    for (const reads of ['cache', 'live'] as const) {
      const w = await startWebhookProcess({ args: ['--reads', reads], cpu });
      let failed = true;
      try {
        const check = await post(w, body);
        const warning = check.json.response?.warnings?.join(' ') ?? '';
        if (check.status !== 200 || check.json.response?.patchType !== 'JSONPatch' || !warning.includes(`still serving ${SERVING}`)) {
          throw new Error(`webhook --reads ${reads} did not hold ${SERVING} for the review: HTTP ${check.status} ${JSON.stringify(check.json.response)}`);
        }
        await cannon(w, body, 64, 3); // warm-up: JIT, TLS sessions
        // Live reads cannot come near 1,000 reviews/s (see their maximum): only the caches get the steady-rate run.
        const plan: Array<[number, number | undefined]> = reads === 'cache' ? [[1, undefined], [64, undefined], [64, 1000]] : [[1, undefined], [64, undefined]];
        for (const [connections, rate] of plan) {
          const listsBefore = await listCount(kc);
          let ms: number[];
          let requests: number;
          let failures: number;
          if (rate === undefined) {
            const c = await cannon(w, body, connections, seconds);
            ({ ms } = c);
            requests = c.result.requests.total;
            failures = c.result.non2xx + c.result.errors + c.result.timeouts;
          } else {
            ({ ms, failures } = await paced(w, body, rate, seconds, connections));
            requests = ms.length + failures;
          }
          const lists = (await listCount(kc)) - listsBefore;
          if (failures > 0) throw new Error(`webhook --reads ${reads}, ${connections} connections: ${failures} reviews failed (non-2xx, errors or timeouts)`);
          const run: AdmissionRun = {
            reads,
            connections,
            rate,
            seconds,
            requests,
            reviewsPerSecond: round(requests / seconds, 0),
            latencyMs: percentiles(ms, 2),
            failures,
            listsPerReview: round(lists / Math.max(1, requests), 2),
          };
          runs.push(run);
          say(
            `  --reads ${reads.padEnd(5)} ${String(connections).padStart(2)} conn ${rate ? `at ${rate}/s` : 'max    '}: ${String(run.reviewsPerSecond).padStart(5)} reviews/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms, ${run.listsPerReview} LIST/review`,
          );
          await sleep(500);
        }
        failed = false;
      } finally {
        await w.stop(failed);
      }
    }
    return { review: 'Service UPDATE to a color that is not Available (answer: JSON patch keeping the serving color, and a warning)', webhookCpu: cpu ? `pinned to CPU ${cpu} (taskset)` : 'not pinned', runs };
  } finally {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}
