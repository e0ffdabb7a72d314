// A whole app lifecycle end to end, and the controller's memory living in the cluster: `rainbow
// controller` as a local process (killed and restarted at will) and `rainbow webhook` (cutover and
// guard, registered by URL for the test's namespace) against the local cluster, real pods of the
// project's image holding real TCP streams.
//
//  1. `helm uninstall` with a stream open on the last color: the app counts as uninstalled after
//     the uninstall grace (30 s), its colors drain (the kept one too), the streaming color stays
//     (the guard refuses to delete it) until the stream closes and goes drain-grace later; nothing
//     of the app is left.
//  2. The Service deleted and created again within the grace (`kubectl replace --force`, then a
//     delete and a create 10 s apart): no drain starts, and rainbow.dev/no-service-since goes again.
//  3. A release and its drain with the controller SIGKILLed and restarted at each step (pending,
//     promoted, stamped, zero seen, deleting): the same Events as an uninterrupted run, the same
//     states in `rainbow status` before and after each restart, one delete, and the delete comes
//     drain-grace after the first zero reading, not after the last restart.
import path from 'node:path';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import { clients, eventually, helm, kubectl } from './support/cluster.js';
import { perTest } from './support/per-test.js';
import type { RegisteredWebhook } from './support/webhook.js';
import { UNINSTALL_GRACE_SECONDS } from '../../webhook/src/domain/contract.js';
import {
  connectionsOf,
  controllerEvents,
  drainStarted,
  openStream,
  rainbowStatus,
  sleepUntil,
  waitAvailable,
  type LogLine,
  type RainbowEvent,
  type Stream,
} from './support/controller.js';

const { core, apps } = clients();
const chart = path.join(repoRoot, 'chart', 'rainbow-app');
const APP = 'web';
const INTERVAL_MS = 1000; // --interval 1s (support/controller.ts)
const SLACK_MS = 4000;
const UNINSTALL_GRACE_MS = UNINSTALL_GRACE_SECONDS * 1000;

const { afterTest, namespace, controller, webhookIn, deletionOf } = perTest(APP);

function streamOf(s: Stream): Stream {
  afterTest(async () => s.socket.destroy());
  return s;
}

const deployment = (ns: string, color: string) => apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${color}` });
const annotation = async (ns: string, color: string, key: string) => (await deployment(ns, color)).metadata?.annotations?.[key];
const annotated = (ns: string, color: string, key: string, timeoutMs = 20_000) =>
  eventually(`${key} on ${APP}-${color}`, () => annotation(ns, color, key), timeoutMs, 100);
const about = (ev: RainbowEvent[], object: string, reasons?: string[]) => ev.filter((e) => e.object === object && (!reasons || reasons.includes(e.reason)));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function eventsUntil(ns: string, what: string, ok: (ev: RainbowEvent[]) => boolean, timeoutMs = 15_000): Promise<RainbowEvent[]> {
  return eventually(what, async () => {
    const ev = await controllerEvents(ns);
    return ok(ev) ? ev : undefined;
  }, timeoutMs, 250);
}

/** The guard's decisions on DELETEs of Deployment `name` (identical consecutive verdicts are one: the API server may call twice). */
function deleteDecisions(w: RegisteredWebhook, name: string): Array<[unknown, unknown]> {
  const out: Array<[unknown, unknown]> = [];
  for (const l of w.process.output().split('\n').filter((x) => x.startsWith('{'))) {
    const r = JSON.parse(l) as LogLine;
    if (!String(r.msg).startsWith('validate-deployments') || r.kind !== 'Deployment' || r.name !== name || r.operation !== 'DELETE' || r.dryRun) continue;
    const last = out[out.length - 1];
    if (!last || last[0] !== r.allowed || last[1] !== r.reason) out.push([r.allowed, r.reason]);
  }
  return out;
}

type StatusDoc = { apps: Array<{ app: string; uninstall: { uninstalled: boolean } | null; colors: Array<{ color: string; state: string; stateLabel: string }> }> };
const statusJson = async (ns: string) => JSON.parse(await rainbowStatus(ns, ['-o', 'json'])) as StatusDoc;
const statesOf = (doc: StatusDoc) => doc.apps.flatMap((a) => a.colors.map((c) => `${c.color}:${c.stateLabel}`));

test('helm uninstall with a stream open on the last color: it stays while the stream is open (the guard refuses its delete), goes drain-grace after it closes; nothing of the app is left', async () => {
  const [A, B] = ['a1b2c3', 'b4d5e6'];
  const GRACE_S = 3;
  const ns = await namespace('life-uninstall');
  const webhook = await webhookIn(ns);
  controller(ns, 'life-uninstall-1');
  const release = (color: string) =>
    helm([
      'upgrade', '--install', APP, chart, '-n', ns, '--set', `color=${color}`, '--set', 'replicas=1', '--set', 'readinessProbe.periodSeconds=1',
      '--set', `drain.grace=${GRACE_S}s`, '--set', 'drain.keepColors=1', '--set', 'terminationGracePeriodSeconds=5', '--wait', '--timeout', '120s',
    ]);

  // A, then B: A is the kept previous color (keep-colors 1), B serves.
  expect((await release(A)).code).toBe(0);
  expect((await release(B)).code).toBe(0);
  await eventually(`Service ${APP} on ${B}`, async () => (await core.readNamespacedService({ namespace: ns, name: APP })).spec?.selector?.['rainbow.dev/color'] === B, 60_000, 100);
  await drainStarted(ns, `${APP}-${A}`);
  expect(await annotated(ns, B, 'rainbow.dev/served-at')).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(JSON.parse((await annotated(ns, B, 'rainbow.dev/drain-settings'))!)).toEqual({ keepColors: 1, drainGraceSeconds: GRACE_S, maxDrainSeconds: 48 * 3600, shrink: true });
  expect(statesOf(await statusJson(ns))).toEqual([`${B}:serving`, `${A}:kept`]);

  // A real client of the demo app's stream on B's pod, from the cluster's namespace.
  const [podB] = (await core.listNamespacedPod({ namespace: ns, labelSelector: `rainbow.dev/color=${B}` })).items;
  const stream = streamOf(await openStream(podB!.status!.podIP!, 8081, 15_000, 'inside'));
  expect(stream.lines[0]).toBe(`The color is #${B}`);
  const goneA = deletionOf(ns, A);
  const goneB = deletionOf(ns, B);

  const uninstall = await helm(['uninstall', APP, '-n', ns]);
  expect(uninstall.code).toBe(0);
  const uninstalledAt = Date.now();
  console.log(`helm uninstall: ${uninstall.stdout.trim()} ${uninstall.stderr.trim()}`);
  // Helm leaves the colors (resource-policy keep); the controller notes when the Service went.
  const since = await annotated(ns, B, 'rainbow.dev/no-service-since');
  expect(await annotated(ns, A, 'rainbow.dev/no-service-since')).toBe(since);
  const during = await rainbowStatus(ns);
  console.log(`$ rainbow status (within the uninstall grace)\n${during}`);
  expect(during).toMatch(new RegExp(`${ns}/${APP}: no Service since .*: counts as uninstalled in \\d+s unless one comes back`));
  expect(during).toMatch(new RegExp(`^${B}\\s+kept\\s`, 'm'));

  // After the grace both colors drain: B stamped at no-service-since, A is no longer kept.
  const stampB = await drainStarted(ns, `${APP}-${B}`, UNINSTALL_GRACE_MS + 15_000);
  console.log(`uninstall: B stamped ${secs(Date.now() - uninstalledAt)} after helm uninstall (no-service-since ${since}, drain-started ${stampB})`);
  expect(Date.now() - Date.parse(since!)).toBeGreaterThanOrEqual(UNINSTALL_GRACE_MS);
  expect(stampB).toBe(since);
  const goneAtA = await goneA.gone(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS + 5000);
  expect(goneAtA - Date.parse(since!)).toBeGreaterThanOrEqual(UNINSTALL_GRACE_MS);

  const table = await rainbowStatus(ns);
  console.log(`$ rainbow status (uninstalled)\n${table}`);
  expect(table).toMatch(new RegExp(`${ns}/${APP}: no Service since .*: app uninstalled, its colors drain`));
  expect(table).toMatch(new RegExp(`^${B}\\s+draining \\(app uninstalled\\)\\s+1/1\\s+1\\s+\\S+\\s+(47h|48h)\\s`, 'm'));

  // The guard refuses to delete B while the stream is open; the controller leaves it.
  const refused = await kubectl(['-n', ns, 'delete', 'deployment', `${APP}-${B}`, '--wait=false']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/1 established connection/);
  await sleepUntil(Date.parse(stampB) + UNINSTALL_GRACE_MS + GRACE_S * 1000 + 3 * INTERVAL_MS);
  expect(goneB.goneAt()).toBeUndefined();
  expect(await connectionsOf(ns, B)).toBe(1);
  expect(stream.socket.destroyed).toBe(false);

  const closedAt = Date.now();
  stream.socket.destroy();
  const goneAtB = await goneB.gone(30_000);
  console.log(`uninstall: B deleted ${secs(goneAtB - closedAt)} after its stream closed (drain-grace ${GRACE_S}s)`);
  expect(goneAtB - closedAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  expect(goneAtB - closedAt).toBeLessThanOrEqual(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS);

  const ev = await eventsUntil(ns, 'Deleted events for A and B', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0 && about(e, `${APP}-${B}`, ['Deleted']).length > 0);
  expect(about(ev, `${APP}-${B}`).map((e) => e.reason)).toEqual(['Promoted', 'AppUninstalled', 'DrainStarted', 'Drained', 'Deleted']);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'AppUninstalled', 'Drained', 'Deleted']);
  expect(about(ev, `${APP}-${B}`, ['AppUninstalled'])[0]!.message).toBe(
    `app ${APP} is uninstalled: no Service labelled rainbow.dev/app=${APP} since ${since}; color ${B} drains like a previous color, none kept: deleted once it has read 0 connections for ${GRACE_S}s, or after max-drain 48h at the latest`,
  );
  expect(about(ev, `${APP}-${B}`, ['DrainStarted'])[0]!.message).toMatch(/Its app is uninstalled, so nothing is kept for rollback/);
  // Our delete was refused for the connection, the controller's went through drained.
  expect(deleteDecisions(webhook, `${APP}-${B}`)).toEqual([
    [false, 'connections'],
    [true, 'drained'],
  ]);

  // Nothing of the app is left (the pods go within their grace period).
  const selector = `rainbow.dev/app=${APP}`;
  await eventually('no object of the app left', async () => {
    const left = [
      ...(await apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector })).items,
      ...(await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: selector })).items,
      ...(await core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items,
      ...(await core.listNamespacedService({ namespace: ns, labelSelector: selector })).items,
      ...(await core.listNamespacedServiceAccount({ namespace: ns })).items.filter((s) => s.metadata?.name !== 'default'),
    ];
    return left.length === 0;
  }, 30_000, 250);
  expect((await helm(['list', '-n', ns, '-q'])).stdout.trim()).toBe('');
});

test('the Service deleted and created again within the uninstall grace (kubectl replace --force, then delete and create 10 s apart): no drain starts', async () => {
  const A = 'c0ffee';
  const ns = await namespace('life-replace');
  await webhookIn(ns);
  const ctl = controller(ns, 'life-replace-1');
  await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, A) });
  await waitAvailable(ns, `${APP}-${A}`);
  const svc = appService(APP, A, { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '1s' }, 'ClusterIP');
  await core.createNamespacedService({ namespace: ns, body: svc });
  await annotated(ns, A, 'rainbow.dev/served-at');
  const gone = deletionOf(ns, A);

  // kubectl replace --force: a delete and a create in one command.
  const replaced = await kubectl(['-n', ns, 'replace', '--force', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', ...svc }) });
  expect(replaced.code).toBe(0);
  const replacedAt = Date.now();

  // A delete, then the same Service again 10 s later: the controller noted the gap, and forgets it.
  await sleepUntil(replacedAt + 2000);
  await core.deleteNamespacedService({ namespace: ns, name: APP });
  const deletedAt = Date.now();
  const since = await annotated(ns, A, 'rainbow.dev/no-service-since');
  const during = await statusJson(ns);
  expect(during.apps[0]!.uninstall).toMatchObject({ uninstalled: false });
  await sleepUntil(deletedAt + 10_000);
  await core.createNamespacedService({ namespace: ns, body: svc });
  await eventually('no-service-since removed', async () => (await annotation(ns, A, 'rainbow.dev/no-service-since')) === undefined, 15_000, 100);
  console.log(`replace: no-service-since ${since} written ${secs(Date.parse(since!) - deletedAt)} after the delete, removed once the Service was back`);

  // Well past the grace from either gap: A serves, nothing drained, nothing was said.
  await sleepUntil(deletedAt + UNINSTALL_GRACE_MS + 5 * INTERVAL_MS);
  expect(gone.goneAt()).toBeUndefined();
  const d = await deployment(ns, A);
  expect(d.metadata?.annotations?.['rainbow.dev/drain-started']).toBeUndefined();
  expect(d.metadata?.annotations?.['rainbow.dev/no-service-since']).toBeUndefined();
  expect(statesOf(await statusJson(ns))).toEqual([`${A}:serving`]);
  expect((await controllerEvents(ns)).filter((e) => e.reason !== 'Promoted')).toEqual([]);
  expect(ctl.lines().filter((l) => l.msg === 'drain started' || l.msg === 'deleted')).toEqual([]);
});

test('a release and its drain with the controller SIGKILLed and restarted at each step: the same Events and states, one delete, drain-grace from the first zero', async () => {
  const [A, B] = ['a1b2c3', 'b4d5e6'];
  const GRACE_S = 8;
  const ID = 'life-restart'; // a restarted container keeps its pod's name, so its identity
  const ns = await namespace('life-restart');
  const webhook = await webhookIn(ns);
  let ctl = controller(ns, ID);
  const settings = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': `${GRACE_S}s`, 'rainbow.dev/max-drain': '1h' };

  await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, A) });
  await waitAvailable(ns, `${APP}-${A}`);
  const nodePort = (await core.createNamespacedService({ namespace: ns, body: appService(APP, A, settings) })).spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;
  await annotated(ns, A, 'rainbow.dev/served-at');
  const [podA] = (await core.listNamespacedPod({ namespace: ns, labelSelector: `rainbow.dev/color=${A}` })).items;
  const stream = streamOf(await openStream(podA!.status!.podIP!, 8081, 15_000, 'inside'));
  expect(nodePort).toBeGreaterThan(0);

  const restarts: string[] = [];
  /** SIGKILL, then a new process with the same identity; the states `rainbow status` shows are the same before and after. */
  const killAndRestart = async (step: string): Promise<number> => {
    const before = statesOf(await statusJson(ns));
    expect(await ctl.stop('SIGKILL')).toBeNull();
    ctl = controller(ns, ID);
    const watching = await ctl.logged('watching');
    const after = statesOf(await statusJson(ns));
    expect({ step, states: after }).toEqual({ step, states: before });
    restarts.push(`${step}: ${before.join(' ')}`);
    return watching;
  };

  // 1. pending: the Service asks for B (Helm's order), B is not Available for 8 s.
  const asked = await kubectl(['-n', ns, 'patch', 'service', APP, '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': B } } })]);
  expect(asked.code).toBe(0);
  await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, B, { readyAfterSeconds: 8 }) });
  expect((await core.readNamespacedService({ namespace: ns, name: APP })).metadata?.annotations?.['rainbow.dev/pending-color']).toBe(B);
  await killAndRestart('pending');

  // 2. promoted: the restarted controller switches the Service once B is Available; kill at once.
  await eventually(`Service ${APP} on ${B}`, async () => (await core.readNamespacedService({ namespace: ns, name: APP })).spec?.selector?.['rainbow.dev/color'] === B, 30_000, 50);
  await killAndRestart('promoted');

  // 3. stamped: A's drain-started and its Event (Events are best effort: kill after both).
  const stamp = await drainStarted(ns, `${APP}-${A}`);
  await eventsUntil(ns, 'DrainStarted event for A', (e) => about(e, `${APP}-${A}`, ['DrainStarted']).length > 0);
  await killAndRestart('stamped');
  expect(await annotation(ns, A, 'rainbow.dev/drain-started')).toBe(stamp);
  expect(await connectionsOf(ns, A)).toBe(1);

  // 4. zero seen: the client leaves; kill once the controller has written the 0-streak's start.
  const gone = deletionOf(ns, A);
  const closedAt = Date.now();
  stream.socket.destroy();
  const zeroSince = await annotated(ns, A, 'rainbow.dev/zero-since', 10_000);
  // A few seconds into the streak, so that a controller counting drain-grace from its own start
  // would be told apart from one that resumes it.
  await sleepUntil(Date.parse(zeroSince!) + 3000);
  const watching = await killAndRestart('zero seen');
  expect(gone.goneAt()).toBeUndefined();

  // 5. deleting: kill as soon as the Drained Event is there (the delete follows it at once).
  await eventsUntil(ns, 'Drained event for A', (e) => about(e, `${APP}-${A}`, ['Drained']).length > 0, 30_000);
  expect(await ctl.stop('SIGKILL')).toBeNull();
  ctl = controller(ns, ID);
  await ctl.logged('watching');
  const goneAt = await gone.gone(30_000);
  console.log(
    `restarts: ${restarts.join(' | ')}; stream closed at +0s, zero-since ${zeroSince} (+${secs(Date.parse(zeroSince!) - closedAt)}), ` +
      `restarted controller watching at +${secs(watching - closedAt)}, A deleted at +${secs(goneAt - closedAt)} (drain-grace ${GRACE_S}s)`,
  );
  // Drain-grace from the first zero, which the restarted controller read from zero-since (rounded up
  // to the second), not from its own start.
  expect(goneAt - closedAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  expect(goneAt).toBeGreaterThanOrEqual(Date.parse(zeroSince!) + GRACE_S * 1000 - 1000);
  expect(goneAt - Date.parse(zeroSince!)).toBeLessThanOrEqual(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS);
  expect(goneAt - watching).toBeLessThan(GRACE_S * 1000);

  // The Events of an uninterrupted run (controller.test.ts), each once; one delete, through the guard.
  await sleepUntil(Date.now() + 3 * INTERVAL_MS);
  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'Drained', 'Deleted']);
  expect(about(ev, `${APP}-${B}`).map((e) => e.reason)).toEqual(['Promoted']);
  expect(about(ev, APP).map((e) => `${e.kind}:${e.reason}`)).toEqual(['Service:Promoted']);
  expect(deleteDecisions(webhook, `${APP}-${A}`)).toEqual([[true, 'drained']]);
  expect(statesOf(await statusJson(ns))).toEqual([`${B}:serving`]);
});
