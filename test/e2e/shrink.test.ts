// Shrinking a draining color, end to end: rainbow-system installed with real helm (the webhook
// pods behind their Service, the controller a pod under the chart's ServiceAccount and RBAC, 1 s
// drain checks), apps installed and upgraded with real helm from chart/rainbow-app (drain.shrink
// on by default), and real TCP streams from the cluster's namespace to one pod of the old color.
//
//  1. A 4-pod color whose only connection is on one pod: once it drains (drain-grace 3 s after
//     drain-started), the controller writes that pod's deletion cost, then scales the color to 1;
//     the ReplicaSet controller removes the three empty pods, the stream stays open and keeps
//     receiving, and the color is deleted once the client closes.
//  2. A rollback to a shrunk color: `helm rollback` exits 0 without a server-side-apply conflict on
//     spec.replicas, the Service never routes to the color while it is shrunk (it waits, pending,
//     until its 4 pods are back and Available), the annotation goes, and the stream lives on.
import path from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { clients, eventually, helm, testNamespace } from './support/cluster.js';
import { controllerEvents, openStream, rainbowStatus, watchDeletion, type RainbowEvent, type Stream } from './support/controller.js';
import { installRainbowSystem, type InClusterSystem } from './support/system.js';

const { core, apps } = clients();
const chart = path.join(repoRoot, 'chart', 'rainbow-app');
const GRACE_S = 3;
const INTERVAL_MS = 1000; // the controller's --interval (support/system.ts)
const SLACK_MS = 8000; // the in-cluster controller on 2 loaded cores: API round trips, pod removal, our polling

let ns: Awaited<ReturnType<typeof testNamespace>>;
let system: InClusterSystem;
const streams: Stream[] = [];

beforeAll(async () => {
  ns = await testNamespace('shrink');
  system = await installRainbowSystem(ns.name);
});
afterAll(async () => {
  for (const s of streams) s.socket.destroy();
  await system?.uninstall();
  await ns?.remove();
});

const release = (app: string, color: string, extra: string[] = []) =>
  helm([
    'upgrade', '--install', app, chart, '-n', ns.name, '--set', `color=${color}`, '--set', 'readinessProbe.periodSeconds=1',
    '--set', `drain.grace=${GRACE_S}s`, '--set', 'drain.keepColors=0', '--set', 'terminationGracePeriodSeconds=5', ...extra,
  ]);

const deploymentOf = (app: string, color: string) => apps.readNamespacedDeployment({ namespace: ns.name, name: `${app}-${color}` });
const podsOf = async (app: string, color: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `rainbow.dev/app=${app},rainbow.dev/color=${color}` })).items.sort((a, b) =>
    a.metadata!.name!.localeCompare(b.metadata!.name!),
  );
const routesTo = async (app: string) => (await core.readNamespacedService({ namespace: ns.name, name: app })).spec?.selector?.['rainbow.dev/color'];
const about = (ev: RainbowEvent[], object: string, reason?: string) => ev.filter((e) => e.object === object && (!reason || e.reason === reason));

/** Installs `app` at `from` with 4 pods, opens a stream to its first pod, then upgrades to `to` (1 pod). */
async function drainWithOneStream(app: string, from: string, to: string): Promise<{ stream: Stream; pod: string }> {
  const first = await release(app, from, ['--set', 'replicas=4', '--wait', '--timeout', '120s']);
  expect(first.code).toBe(0);
  const pods = await podsOf(app, from);
  expect(pods).toHaveLength(4);
  const target = pods[0]!;
  // A real client of the demo app's stream, straight to that pod's address, from the cluster's namespace.
  const stream = await openStream(target.status!.podIP!, 8081, 15_000, 'inside');
  streams.push(stream);
  expect(stream.lines[0]).toBe(`The color is #${from}`);

  const second = await release(app, to, ['--set', 'replicas=1']);
  expect(second.code).toBe(0);
  await eventually(`Service ${app} on ${to}`, async () => (await routesTo(app)) === to, 60_000, 100);
  return { stream, pod: target.metadata!.name! };
}

/** Resolves once `app-color` runs 1 replica with rainbow.dev/shrunk-from=4, and only `pod` is left of its pods. */
async function shrunkTo(app: string, color: string, pod: string, timeoutMs: number): Promise<V1Deployment> {
  const d = await eventually(`${app}-${color} scaled to 1 with shrunk-from 4`, async () => {
    const x = await deploymentOf(app, color);
    return x.spec?.replicas === 1 && x.metadata?.annotations?.['rainbow.dev/shrunk-from'] === '4' ? x : undefined;
  }, timeoutMs, 100);
  // The three empty pods go (terminationGracePeriodSeconds 5 at most); the connected one stays.
  await eventually(`only ${pod} left of ${app}-${color}`, async () => {
    const left = await podsOf(app, color);
    return left.length === 1 && left[0]!.metadata?.name === pod;
  }, 30_000, 200);
  return d;
}

/** The stream still receives its color's lines (the demo app prints every 5 s) and was never closed. */
async function keepsReceiving(stream: Stream, color: string, lines = 2): Promise<void> {
  const before = stream.lines.length;
  await eventually(`${lines} more lines on the stream`, async () => stream.lines.length >= before + lines, 5000 * lines + 5000, 200);
  expect(stream.socket.destroyed).toBe(false);
  expect(new Set(stream.lines)).toEqual(new Set([`The color is #${color}`]));
}

test('a 4-pod draining color whose connections are on one pod shrinks to that pod without cutting it, and goes once the client closes', async () => {
  const [A, B] = ['a4a4a4', 'b1b1b1'];
  const APP = 'web';
  const { stream, pod } = await drainWithOneStream(APP, A, B);
  const switchedAt = Date.now();

  // The connected pod's deletion cost is its count; the empty ones read 0 (no annotation).
  const costs = await eventually(`deletion cost 1 on ${pod}`, async () => {
    const all = await podsOf(APP, A);
    const c = Object.fromEntries(all.map((p) => [p.metadata!.name!, p.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost']]));
    return c[pod] === '1' ? c : undefined;
  }, 20_000, 200);
  expect(Object.entries(costs).filter(([name]) => name !== pod).map(([, cost]) => cost ?? '0')).toEqual(['0', '0', '0']);

  const d = await shrunkTo(APP, A, pod, GRACE_S * 1000 + 2 * INTERVAL_MS + SLACK_MS + 10_000);
  const shrunkAt = Date.now();
  console.log(`shrink: ${APP}-${A} scaled 4 → 1 ${((shrunkAt - switchedAt) / 1000).toFixed(1)} s after the switch (drain-grace ${GRACE_S} s)`);
  expect(Date.parse(d.metadata!.annotations!['rainbow.dev/drain-started']!) + GRACE_S * 1000).toBeLessThanOrEqual(shrunkAt);

  const ev = await eventually('Shrunk event', async () => {
    const e = await controllerEvents(ns.name);
    return about(e, `${APP}-${A}`, 'Shrunk').length > 0 ? e : undefined;
  }, 15_000, 250);
  // The count may include the kubelet's readiness probe of the held pod's http port, an
  // established connection for its few milliseconds: 1 established, or now and then 2.
  expect(about(ev, `${APP}-${A}`, 'Shrunk').map((e) => [e.type, e.message])).toEqual([
    ['Normal', expect.stringMatching(new RegExp(`^color ${A}: 1 of 4 pods still hold connections \\([12] established\\); scaled Deployment ${APP}-${A} from 4 to 1 replicas$`))],
  ]);

  // Not cut: the stream stays open and keeps receiving A's lines after the scale-down.
  await keepsReceiving(stream, A);
  const table = await rainbowStatus(ns.name, [APP]);
  console.log(`$ rainbow status ${APP} -n ${ns.name}\n${table}`);
  expect(table).toMatch(new RegExp(`^${A}\\s+draining\\s+1/1 \\(shrunk from 4\\)\\s+[12]\\s`, 'm'));
  expect((await deploymentOf(APP, A)).metadata?.deletionTimestamp).toBeUndefined();

  // The client leaves: A is deleted after drain-grace, as any drained color.
  const gone = watchDeletion(ns.name, `${APP}-${A}`);
  try {
    await eventually('the deletion watch to see the Deployment', async () => gone.lastSeen() !== undefined, 5000, 50);
    const closedAt = Date.now();
    stream.socket.destroy();
    const goneAt = await gone.gone(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS + 10_000);
    console.log(`shrink: ${APP}-${A} deleted ${((goneAt - closedAt) / 1000).toFixed(1)} s after its last connection closed`);
    expect(goneAt - closedAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  } finally {
    gone.stop();
  }
  const after = await eventually('Deleted event', async () => {
    const e = await controllerEvents(ns.name);
    return about(e, `${APP}-${A}`, 'Deleted').length > 0 ? e : undefined;
  }, 15_000, 250);
  expect(about(after, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'Shrunk', 'Drained', 'Deleted']);
  expect(after.filter((e) => ['ShrinkRefused', 'DeleteRefused', 'DeleteFailed'].includes(e.reason))).toEqual([]);
  expect(await routesTo(APP)).toBe(B);
});

test('helm rollback to a shrunk color: no conflict, the Service waits until its 4 pods are back, the stream lives on', async () => {
  const [A, B] = ['a2a2a2', 'b2b2b2'];
  const APP = 'chat';
  const { stream, pod } = await drainWithOneStream(APP, A, B);
  await shrunkTo(APP, A, pod, GRACE_S * 1000 + 2 * INTERVAL_MS + SLACK_MS + 10_000);

  // Watch the Service and A's Deployment while rolling back: whenever the Service routes to A, A
  // must have all 4 replicas available (never the whole app on the one pod left).
  const violations: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const [color, d] = await Promise.all([routesTo(APP), deploymentOf(APP, A)]);
      if (color === A && (d.status?.availableReplicas ?? 0) < 4) violations.push(`Service on ${A} with ${d.status?.availableReplicas ?? 0} available`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const rollback = await helm(['rollback', APP, '1', '-n', ns.name]);
    expect(`${rollback.stdout}\n${rollback.stderr}`).not.toMatch(/conflict|Error/);
    expect(rollback.code).toBe(0);
    await eventually(`Service ${APP} back on ${A}`, async () => (await routesTo(APP)) === A, 60_000, 100);
  } finally {
    watching = false;
    await watcher;
  }
  expect(violations).toEqual([]);
  const d = await eventually(`${APP}-${A} whole again without shrunk-from`, async () => {
    const x = await deploymentOf(APP, A);
    return x.spec?.replicas === 4 && x.metadata?.annotations?.['rainbow.dev/shrunk-from'] === undefined ? x : undefined;
  }, 20_000, 200);
  expect(d.status?.availableReplicas).toBe(4);
  expect(d.metadata?.annotations?.['rainbow.dev/drain-started']).toBeUndefined();
  expect((await podsOf(APP, A)).map((p) => p.metadata!.name)).toContain(pod);
  await keepsReceiving(stream, A, 1);

  const ev = await controllerEvents(ns.name);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(expect.arrayContaining(['DrainStarted', 'Shrunk', 'Promoted']));
  expect(ev.filter((e) => ['ShrinkRefused', 'DeleteRefused', 'DeleteFailed'].includes(e.reason))).toEqual([]);
  stream.socket.destroy();
});
