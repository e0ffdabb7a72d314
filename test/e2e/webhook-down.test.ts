// Fault injection: the webhook is SIGKILLed around a `helm upgrade`, then started again on the same
// port with the same certificate. rainbow-system is installed with real helm (webhook by URL,
// controller in the cluster) and rainbow-app with real helm; what the real API server does with
// each failurePolicy is measured here, and what a client of the app sees through the node port.
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clients, eventually, helm, kubectl, testNamespace } from './support/cluster.js';
import { clusterHost, listeningInside } from './support/network.js';
import { installRainbowSystemWithUrl as installRainbowSystem, type UrlSystem as RainbowSystem } from './support/system.js';
import { repoRoot } from '../../scripts/cluster/paths.js';

const { core, apps, admission } = clients();
let ns: Awaited<ReturnType<typeof testNamespace>>;
let system: RainbowSystem;
const chart = path.join(repoRoot, 'chart', 'rainbow-app');
const A = '1a2b3c';
const B = '4d5e6f';
const C = '7a8b9c';

beforeAll(async () => {
  ns = await testNamespace('whdown');
  system = await installRainbowSystem(ns.name);
});
afterAll(async () => {
  await system?.uninstall(); // removes both webhook configurations, stops the webhook by PID, deletes its namespace
  await ns?.remove();
});

const deploy = (color: string, extra: string[] = []) =>
  helm(['upgrade', '--install', 'web', chart, '-n', ns.name, '--set', `color=${color}`, '--set', 'replicas=1', '--set', 'service.type=NodePort', '--set', 'readinessProbe.periodSeconds=1', ...extra]);
const service = () => core.readNamespacedService({ namespace: ns.name, name: 'web' });
const deployment = (color: string) => apps.readNamespacedDeployment({ namespace: ns.name, name: `web-${color}` });
const colorNames = async () => (await apps.listNamespacedDeployment({ namespace: ns.name, labelSelector: 'rainbow.dev/app=web' })).items.map((d) => d.metadata!.name!).sort();
const webhookPort = () => Number(new URL(system.webhookUrl).port);
const kubectlIn = (...args: string[]) => kubectl(['-n', ns.name, ...args]);

/**
 * One new HTTP request through the Service's node port, on a fresh connection: the color that
 * answered (X-Rainbow-Color), or 'refused' when the node's proxy had no Ready pod for it.
 */
function probe(nodePort: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: clusterHost(), port: nodePort, path: '/', agent: false, timeout: 3_000 }, (res) => {
      res.resume();
      resolve(String(res.headers['x-rainbow-color'] ?? `HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('refused'));
  });
}

/** Probes every 200 ms until `until` returns true for an answer; every answer in order, with its time. */
async function probeUntil(nodePort: number, until: (answer: string) => boolean, timeoutMs: number) {
  const seen: { answer: string; at: number }[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await probe(nodePort);
    seen.push({ answer, at: Date.now() });
    if (until(answer)) return seen;
    await sleep(200);
  }
  throw new Error(`probing node port ${nodePort}: gave up after ${timeoutMs / 1000}s; answers: ${[...new Set(seen.map((s) => s.answer))].join(', ')}`);
}

/** Runs of equal answers, e.g. ['1a2b3c', 'refused', '4d5e6f']. */
const runs = (seen: { answer: string }[]) => seen.map((s) => s.answer).filter((a, i, all) => i === 0 || all[i - 1] !== a);

const REFUSED_BY_DOWN_WEBHOOK = (webhook: string) =>
  new RegExp(`^Error from server \\(InternalError\\): Internal error occurred: failed calling webhook "${webhook}": failed to call webhook: Post "https://127\\.0\\.0\\.1:\\d+/validate/deployments\\?timeout=10s": dial tcp 127\\.0\\.0\\.1:\\d+: connect: connection refused`);

let nodePort: number;

test('webhook killed: helm upgrade A → B exits 0 and the Service moves to B at once (no cutover, no warning)', async () => {
  const first = await deploy(A, ['--wait', '--timeout', '60s']);
  expect(first.code).toBe(0);
  const svc = await service();
  expect(svc.spec?.selector).toEqual({ 'rainbow.dev/app': 'web', 'rainbow.dev/color': A });
  nodePort = svc.spec!.ports!.find((p) => p.name === 'http')!.nodePort!;
  await eventually(`node port ${nodePort} answering with ${A}`, async () => (await probe(nodePort)) === A, 15_000, 100);

  const killed = system.webhook;
  await killed.stop('SIGKILL');
  expect(killed.proc.signalCode).toBe('SIGKILL');
  expect(await listeningInside(webhookPort())).toBe(false);

  // B becomes Ready only after 8 s. With the webhook up, the Service would stay on A (pending B).
  const started = Date.now();
  const second = await deploy(B, ['--set', 'readinessProbe.initialDelaySeconds=8']);
  const helmMs = Date.now() - started;
  expect(second.code).toBe(0);
  expect(second.stderr).toBe(''); // no cutover warning, and nothing about the failed webhook call
  expect(second.stdout).toContain('Release "web" has been upgraded');
  // Connection refused fails fast: the mutating webhook (Ignore) cost no timeout.
  expect(helmMs).toBeLessThan(8_000);

  // The Service update went through as written: selector on B at once, no pending color.
  const moved = await service();
  expect(moved.spec?.selector).toEqual({ 'rainbow.dev/app': 'web', 'rainbow.dev/color': B });
  expect(moved.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  expect(isDeploymentAvailable(await deployment(B))).toBe(false);
  // Helm kept A (resource-policy keep) and created B; it neither deleted nor scaled a Deployment,
  // so the validating webhook (Fail) was never in its way.
  expect(await colorNames()).toEqual([`web-${A}`, `web-${B}`]);
  expect((await deployment(A)).spec?.replicas).toBe(1);

  // What clients see: new connections find no Ready pod behind the Service until B is Ready.
  const seen = await probeUntil(nodePort, (a) => a === B, 60_000);
  const order = runs(seen);
  expect(order[order.length - 1]).toBe(B);
  expect(order).toContain('refused');
  const firstRefused = seen.find((s) => s.answer === 'refused')!.at;
  const lastRefused = [...seen].reverse().find((s) => s.answer === 'refused')!.at;
  // Once refused, never A again: the Service no longer selects it.
  expect(order.slice(order.indexOf('refused'))).toEqual(['refused', B]);
  // Refusals lasted for seconds (B's readiness delay), not one unlucky probe.
  expect(lastRefused - firstRefused).toBeGreaterThan(2_000);
  console.log(`webhook down: helm upgrade took ${helmMs} ms; new connections refused for ${lastRefused - firstRefused} ms (first ${firstRefused - started} ms after helm started); ${B} answered ${seen[seen.length - 1].at - started} ms after`);

  await eventually(`web-${B} Available`, async () => isDeploymentAvailable(await deployment(B)), 60_000);
  expect((await service()).spec?.selector?.['rainbow.dev/color']).toBe(B);
});

test('webhook down: guarded delete and scale to 0 are refused by the API server (failurePolicy Fail); force-delete does not help; deleting the ValidatingWebhookConfiguration does', async () => {
  expect(system.webhook.proc.signalCode).toBe('SIGKILL');

  const del = await kubectlIn('delete', 'deployment', `web-${A}`, '--wait=false');
  expect(del.code).toBe(1);
  expect(del.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('workloads.rainbow.dev'));
  expect(del.stderr).toContain(`${system.webhookUrl}/validate/deployments`);

  const scale = await kubectlIn('scale', 'deployment', `web-${A}`, '--replicas=0');
  expect(scale.code).toBe(1);
  expect(scale.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('scale.rainbow.dev'));

  // A Deployment that is not rainbow's, in the same namespace, scales to 0 and back: the scale
  // entry's matchCondition reads the Scale's status.selector, as the real API server sends it.
  await apps.createNamespacedDeployment({
    namespace: ns.name,
    body: {
      metadata: { name: 'unrelated' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'unrelated' } },
        template: { metadata: { labels: { app: 'unrelated' } }, spec: { containers: [{ name: 'r', image: 'rainbow:e2e', args: ['reporter', '--ports', '8080'] }] } },
      },
    },
  });
  // Its pod can be evicted too: an Eviction has no labels, so the eviction entry sees it, and
  // fails open (webhook.podGuard.evictionFailurePolicy Ignore) so that node drains go on.
  const unrelatedPod = await eventually('the unrelated pod', async () => (await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=unrelated' })).items[0], 30_000);
  const evicted = await kubectl(['create', '--raw', `/api/v1/namespaces/${ns.name}/pods/${unrelatedPod.metadata!.name}/eviction`, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: unrelatedPod.metadata!.name, namespace: ns.name } }),
  });
  expect([evicted.code, evicted.stderr]).toEqual([0, '']);
  // A rainbow pod's DELETE is refused like its Deployment's (pods.rainbow.dev fails closed).
  const colorPod = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `rainbow.dev/color=${A}` })).items[0]!;
  const podDelete = await kubectlIn('delete', 'pod', colorPod.metadata!.name!, '--dry-run=server');
  expect(podDelete.code).toBe(1);
  expect(podDelete.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('pods.rainbow.dev'));

  const unrelatedToZero = await kubectlIn('scale', 'deployment', 'unrelated', '--replicas=0');
  expect(unrelatedToZero.stderr).toBe('');
  expect(unrelatedToZero.code).toBe(0);
  expect((await apps.readNamespacedDeployment({ namespace: ns.name, name: 'unrelated' })).spec?.replicas).toBe(0);
  expect((await kubectlIn('delete', 'deployment', 'unrelated')).code).toBe(0);

  // The serving color gets the same error (the webhook is not asked, so no rainbow reason).
  const delServing = await kubectlIn('delete', 'deployment', `web-${B}`, '--dry-run=server');
  expect(delServing.code).toBe(1);
  expect(delServing.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('workloads.rainbow.dev'));

  // rainbow.dev/force-delete is read by the webhook, so it cannot help while the webhook is down.
  // (Annotating is an update that leaves replicas > 0: matchConditions keep it from the webhook.)
  const annotate = await kubectlIn('annotate', 'deployment', `web-${A}`, 'rainbow.dev/force-delete=true');
  expect(annotate.code).toBe(0);
  const forced = await kubectlIn('delete', 'deployment', `web-${A}`, '--wait=false');
  expect(forced.code).toBe(1);
  expect(forced.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('workloads.rainbow.dev'));
  expect((await kubectlIn('annotate', 'deployment', `web-${A}`, 'rainbow.dev/force-delete-')).code).toBe(0);

  const a = await deployment(A);
  expect(a.metadata?.deletionTimestamp).toBeUndefined();
  expect(a.spec?.replicas).toBe(1);
  expect(await colorNames()).toEqual([`web-${A}`, `web-${B}`]);

  // Emergency: without the ValidatingWebhookConfiguration nothing guards deletes (shown with a
  // server-side dry run); `helm upgrade` of rainbow-system puts it back. The API server sees a
  // configuration change through its informer, a moment after the write: hence the polling.
  expect((await kubectl(['delete', 'validatingwebhookconfiguration', system.release])).code).toBe(0);
  const unguarded = await eventually('delete allowed without the configuration', async () => {
    const r = await kubectlIn('delete', 'deployment', `web-${A}`, '--dry-run=server');
    return r.code === 0 ? r : undefined;
  }, 10_000, 200);
  expect(unguarded.stderr).toBe('');
  expect(unguarded.code).toBe(0);
  expect(unguarded.stdout).toContain('(server dry run)');
  const restored = await system.upgrade();
  expect(restored.code).toBe(0);
  const vwc = await admission.readValidatingWebhookConfiguration({ name: system.release });
  expect(vwc.webhooks?.map((w) => [w.name, w.failurePolicy])).toEqual([
    ['workloads.rainbow.dev', 'Fail'],
    ['scale.rainbow.dev', 'Fail'],
    ['pods.rainbow.dev', 'Fail'],
    ['evictions.rainbow.dev', 'Ignore'],
  ]);
  const guardedAgain = await eventually('delete refused again', async () => {
    const r = await kubectlIn('delete', 'deployment', `web-${A}`, '--dry-run=server');
    return r.code !== 0 ? r : undefined;
  }, 10_000, 200);
  expect(guardedAgain.code).toBe(1);
  expect(guardedAgain.stderr).toMatch(REFUSED_BY_DOWN_WEBHOOK('workloads.rainbow.dev'));
  expect(await colorNames()).toEqual([`web-${A}`, `web-${B}`]);
});

test('webhook back on the same URL and CA: the guard answers again and the next upgrade holds the Service until the new color is Available', async () => {
  const before = system.webhook.pid;
  const restarted = await system.restartWebhook();
  expect(restarted.pid).not.toBe(before);

  // The serving color: denied with rainbow's reason.
  const delServing = await kubectlIn('delete', 'deployment', `web-${B}`, '--wait=false');
  expect(delServing.code).toBe(1);
  expect(delServing.stderr).toContain(`Error from server (Forbidden): admission webhook "workloads.rainbow.dev" denied the request: Refusing to delete Deployment ${ns.name}/web-${B} (app web, color ${B}): color ${B} is serving Service web`);
  // A color out of service with 0 connections: allowed (dry run, so it stays).
  const dryA = await kubectlIn('delete', 'deployment', `web-${A}`, '--dry-run=server');
  expect(dryA.stderr).toBe('');
  expect(dryA.code).toBe(0);
  const scaleServing = await kubectlIn('scale', 'deployment', `web-${B}`, '--replicas=0');
  expect(scaleServing.code).toBe(1);
  expect(scaleServing.stderr).toContain('admission webhook "scale.rainbow.dev" denied the request');
  expect(await colorNames()).toEqual([`web-${A}`, `web-${B}`]);

  // B → C, C Ready after 5 s: the normal cutover. Helm applies the Service first; the webhook keeps B.
  const started = Date.now();
  const third = await deploy(C, ['--set', 'readinessProbe.initialDelaySeconds=5']);
  expect(third.code).toBe(0);
  expect(third.stderr).toMatch(new RegExp(`Warning: Service web: color ${C} .*still serving ${B}`));
  const held = await service();
  expect(held.spec?.selector?.['rainbow.dev/color']).toBe(B);
  expect(held.metadata?.annotations?.['rainbow.dev/pending-color']).toBe(C);
  expect(isDeploymentAvailable(await deployment(C))).toBe(false);

  // Clients: B until C is Ready and promoted by the controller, never a refused connection.
  const seen = await probeUntil(nodePort, (a) => a === C, 60_000);
  expect(runs(seen)).toEqual([B, C]);
  const promoted = await service();
  expect(promoted.spec?.selector?.['rainbow.dev/color']).toBe(C);
  expect(promoted.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  console.log(`webhook back: restart to ready, then ${C} served ${seen[seen.length - 1].at - started} ms after helm started, no refused connection`);
  expect(await colorNames()).toEqual(expect.arrayContaining([`web-${B}`, `web-${C}`]));
});
