// The controller end to end: `rainbow controller` as local processes (one or two replicas under
// one Lease, killed and restarted at will) against the local cluster, with real pods of the
// project's image holding real TCP connections. Each test has its own namespace, its own
// controllers and its own webhook (cutover and delete guard, registered by URL for that namespace),
// so every write of the controller, its deletes included, goes through the guard as in a cluster.
//
// Timing bounds (1 s drain checks on a loaded 2-core machine):
//  - a drained color goes no earlier than drain-grace after its last connection closed, and no later
//    than drain-grace + one interval + SLACK_MS (the first drain check that reads 0 comes up to one
//    interval after the close; SLACK_MS also covers the probe, the API calls and our 100 ms polling);
//  - past max-drain the color goes no earlier than drain-started + max-drain and no later than that
//    + one interval + SLACK_MS;
//  - a standby takes over within the Lease duration (15 s) + the retry period (5 s) + SLACK_MS.
//
// Every upgrade follows Helm's order: the Service asks for the new color first (the webhook keeps
// the old one and records rainbow.dev/pending-color), then the new color's Deployment is created and
// the controller promotes it once Available. (A Deployment created before any Service asks for it
// is taken by the controller for a previous color: stamped, kept or deleted like one.)
import type { V1Lease } from '@kubernetes/client-node';
import { clients, eventually, kubectl } from './support/cluster.js';
import { clusterHost } from './support/network.js';
import { perTest } from './support/per-test.js';
import type { RegisteredWebhook } from './support/webhook.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';
import {
  connectionsOf,
  controllerEvents,
  drainStarted,
  openStream,
  openStreamTo,
  rainbowStatus,
  sleepUntil,
  waitAvailable,
  type ControllerProcess,
  type LogLine,
  type RainbowEvent,
} from './support/controller.js';

const { core, apps, coordination } = clients();

const INTERVAL_MS = 1000; // --interval 1s (support/controller.ts)
const SLACK_MS = 3000;
const LEASE_DURATION_MS = 15_000; // controller/leader.ts defaults
const LEASE_RETRY_MS = 5000;
const APP = 'web';

// Every process and poller is stopped after its test, by PID (support/per-test.ts).
const { afterTest, namespace, controller, webhookIn, deletionOf } = perTest(APP);

// --- small steps shared by the tests --------------------------------------------------------------

const settings = (o: { keep: number; grace: string; maxDrain: string }) => ({
  'rainbow.dev/keep-colors': String(o.keep),
  'rainbow.dev/drain-grace': o.grace,
  'rainbow.dev/max-drain': o.maxDrain,
});

async function deployColor(ns: string, color: string) {
  await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(APP, color) });
  await waitAvailable(ns, `${APP}-${color}`);
}

/** Creates the app's NodePort Service on `color`; returns the node port of the TCP stream. */
async function serviceOn(ns: string, color: string, annotations: Record<string, string>): Promise<number> {
  const svc = await core.createNamespacedService({ namespace: ns, body: appService(APP, color, annotations) });
  expect(svc.spec?.selector?.['rainbow.dev/color']).toBe(color);
  return svc.spec!.ports!.find((p) => p.name === 'tcp')!.nodePort!;
}

/** `kubectl patch` of the Service's selector, as a user (or Helm) asks for a new color. */
async function askForColor(ns: string, color: string) {
  const res = await kubectl(['-n', ns, 'patch', 'service', APP, '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'rainbow.dev/color': color } } })]);
  expect(res.code).toBe(0);
  return res;
}

const service = (ns: string) => core.readNamespacedService({ namespace: ns, name: APP });

/**
 * An upgrade from `from` to `to` in Helm's order, through the webhook: the Service update is held
 * on `from` with `to` pending (and a warning), then `to`'s Deployment comes up and the controller
 * promotes it. Resolves when the Service routes to `to`.
 */
async function upgrade(ns: string, from: string, to: string) {
  const asked = await askForColor(ns, to);
  expect(asked.stderr).toMatch(new RegExp(`Warning: Service ${APP}: color ${to} .*still serving ${from}`));
  const held = await service(ns);
  expect(held.spec?.selector?.['rainbow.dev/color']).toBe(from);
  expect(held.metadata?.annotations?.['rainbow.dev/pending-color']).toBe(to);
  await deployColor(ns, to);
  const promoted = await serviceRoutesTo(ns, to);
  expect(promoted.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
  return promoted;
}

async function serviceRoutesTo(ns: string, color: string, timeoutMs = 20_000) {
  return eventually(`Service ${APP} on ${color}`, async () => {
    const s = await service(ns);
    return s.spec?.selector?.['rainbow.dev/color'] === color ? s : undefined;
  }, timeoutMs, 100);
}

async function eventsUntil(ns: string, what: string, ok: (ev: RainbowEvent[]) => boolean, timeoutMs = 15_000): Promise<RainbowEvent[]> {
  return eventually(what, async () => {
    const ev = await controllerEvents(ns);
    return ok(ev) ? ev : undefined;
  }, timeoutMs, 250);
}

const about = (ev: RainbowEvent[], object: string, reasons?: string[]) => ev.filter((e) => e.object === object && (!reasons || reasons.includes(e.reason)));

/** The webhook's log lines about Deployment `name` (delete guard reviews). */
/**
 * The API server may call a validating webhook more than once for one DELETE (its storage layer
 * re-runs admission when the object changed between read and delete), so identical consecutive
 * verdicts are one decision.
 */
function decisions(reviews: LogLine[]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (const l of reviews) {
    const last = out[out.length - 1];
    if (!last || last[0] !== l.allowed || last[1] !== l.reason) out.push([l.allowed, l.reason]);
  }
  return out;
}

function guardReviews(w: RegisteredWebhook, name: string): LogLine[] {
  return w.process
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => String(l.msg).startsWith('validate-deployments') && l.kind === 'Deployment' && l.name === name);
}

async function lease(ns: string): Promise<V1Lease | undefined> {
  return coordination.readNamespacedLease({ namespace: ns, name: 'rainbow-controller' }).catch(() => undefined);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

// --- the tests ------------------------------------------------------------------------------------

test('upgrade A → B (keep-colors 0): A drains while its connection stays open, then goes within drain-grace + one interval of the close', async () => {
  const A = '3c3fdc';
  const B = '9d2cc9';
  const GRACE_S = 3;
  const ns = await namespace('ctl-drain');
  const webhook = await webhookIn(ns);
  const ctl = controller(ns, 'ctl-drain-1');

  await deployColor(ns, A);
  const nodePort = await serviceOn(ns, A, settings({ keep: 0, grace: `${GRACE_S}s`, maxDrain: '1h' }));
  const old = await openStream(clusterHost(), nodePort);
  expect(old.lines[0]).toBe(`The color is #${A}`);

  // The upgrade: the Service update through the webhook keeps A with B pending; the controller
  // promotes B once it is Available.
  await upgrade(ns, A, B);
  const stamp = await drainStarted(ns, `${APP}-${A}`);
  const gone = deletionOf(ns, A);

  // New clients get B; the old client stays on A.
  const fresh = await openStreamTo(B, clusterHost(), nodePort);
  expect(fresh.lines[0]).toBe(`The color is #${B}`);
  expect(await connectionsOf(ns, A)).toBe(1);

  // `rainbow status` during the drain, with a live connection on each color.
  const table = await rainbowStatus(ns);
  console.log(`$ rainbow status -n ${ns}\n${table}`);
  expect(table).toContain(`${ns}/${APP}: Service ${APP} → ${B}`);
  expect(table).toMatch(/^COLOR\s+STATE\s+READY\s+CONNECTIONS\s+AGE\s+DRAIN-LEFT\s+FORECAST$/m);
  expect(table).toMatch(new RegExp(`^${B}\\s+serving\\s+1/1\\s+1\\s+\\S+\\s+-\\s+-$`, 'm'));
  // Seconds into the drain the controller has published at most an unknown forecast.
  expect(table).toMatch(new RegExp(`^${A}\\s+draining\\s+1/1\\s+1\\s+\\S+\\s+(59m|60m)\\s+(-|unknown \\(.+\\))$`, 'm'));
  fresh.socket.destroy();

  // Well past drain-grace (counted from drain-started, whole seconds) the connection is still open
  // and A is still there: no delete was even tried.
  await sleepUntil(Date.parse(stamp) + 1000 + GRACE_S * 1000 + 2 * INTERVAL_MS + 1000);
  expect(gone.goneAt()).toBeUndefined();
  expect(old.socket.destroyed).toBe(false);
  expect(old.lines.length).toBeGreaterThan(1); // the stream kept printing…
  expect(new Set(old.lines)).toEqual(new Set([`The color is #${A}`])); // …from A
  expect(await connectionsOf(ns, A)).toBe(1);
  expect(about(await controllerEvents(ns), `${APP}-${A}`, ['Drained', 'Deleted', 'DeleteRefused', 'DrainDeadlineExceeded'])).toEqual([]);

  // The client leaves: A is deleted once it has read 0 for drain-grace.
  const closedAt = Date.now();
  old.socket.destroy();
  const goneAt = await gone.gone(30_000);
  const took = goneAt - closedAt;
  console.log(`drain: A deleted ${secs(took)} after its last connection closed (drain-grace ${GRACE_S}s, bound ${secs(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS)})`);
  expect(took).toBeGreaterThanOrEqual(GRACE_S * 1000);
  expect(took).toBeLessThanOrEqual(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS);

  // Events, all from the one controller: Promoted (Deployment and Service), DrainStarted, Drained, Deleted.
  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(ev.every((e) => e.component === 'rainbow-controller' && e.instance === ctl.identity && e.host === ctl.identity)).toBe(true);
  expect(about(ev, `${APP}-${B}`, ['Promoted'])).toHaveLength(1);
  expect(about(ev, APP, ['Promoted'])[0]?.kind).toBe('Service');
  const forA = about(ev, `${APP}-${A}`).map((e) => e.reason);
  expect(forA).toEqual(['DrainStarted', 'Drained', 'Deleted']);
  const drained = about(ev, `${APP}-${A}`, ['Drained'])[0]!;
  expect(drained.type).toBe('Normal');
  expect(drained.message).toMatch(new RegExp(`color ${A} has read 0 established connections since .* \\(drain-grace ${GRACE_S}s\\)`));
  expect(about(ev, `${APP}-${A}`, ['Deleted'])[0]!.message).toMatch(/deleted: drained$/);
  expect(ev.filter((e) => e.reason === 'DeleteRefused' || e.reason === 'DeleteFailed')).toEqual([]);

  // The controller's delete went through the guard, which found no connection.
  const reviews = guardReviews(webhook, `${APP}-${A}`).filter((l) => l.operation === 'DELETE');
  expect(decisions(reviews)).toEqual([[true, 'drained']]);
  // B serves on.
  expect((await service(ns)).spec?.selector?.['rainbow.dev/color']).toBe(B);
  await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${B}` });
});

test('keep-colors 1: the newest previous color is kept at 0 connections well past drain-grace, an older one is deleted', async () => {
  const [A, B, C] = ['a1b2c3', 'b4d5e6', 'c0ffee'];
  const GRACE_S = 2;
  const ns = await namespace('ctl-keep');
  await webhookIn(ns);
  const ctl = controller(ns, 'ctl-keep-1');
  await deployColor(ns, A);
  await serviceOn(ns, A, settings({ keep: 1, grace: `${GRACE_S}s`, maxDrain: '1h' }));
  const goneA = deletionOf(ns, A);

  // A → B: A is the only previous color, so it is kept (0 connections, well past drain-grace).
  await upgrade(ns, A, B);
  const goneB = deletionOf(ns, B);
  const stampA = await drainStarted(ns, `${APP}-${A}`);
  await sleepUntil(Date.parse(stampA) + 1000 + GRACE_S * 1000 + 3 * INTERVAL_MS);
  expect(await connectionsOf(ns, A)).toBe(0);
  expect(goneA.goneAt()).toBeUndefined();

  // B → C: B is now the newest previous color and is kept; A is older and goes.
  await upgrade(ns, B, C);
  const switchedAt = Date.now();
  const stampB = await drainStarted(ns, `${APP}-${B}`);
  const goneAtA = await goneA.gone(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS + 5000);
  console.log(`keep: A deleted ${secs(goneAtA - switchedAt)} after the Service moved to C (it had read 0 for long)`);
  expect(goneAtA - switchedAt).toBeLessThanOrEqual(INTERVAL_MS + SLACK_MS);

  // B at 0 connections, three drain-graces and more after it stopped serving: still there, kept.
  await sleepUntil(Math.max(Date.parse(stampB) + 1000, switchedAt) + 3 * GRACE_S * 1000 + 3 * INTERVAL_MS);
  expect(await connectionsOf(ns, B)).toBe(0);
  expect(goneB.goneAt()).toBeUndefined();
  const b = await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${B}` });
  expect(b.metadata?.deletionTimestamp).toBeUndefined();
  const doc = JSON.parse(await rainbowStatus(ns, ['-o', 'json'])) as { apps: Array<{ colors: Array<{ color: string; state: string; connections: number | null }> }> };
  expect(doc.apps[0]!.colors.map((c) => [c.color, c.state, c.connections])).toEqual([
    [C, 'serving', 0],
    [B, 'kept', 0],
  ]);

  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(ev.every((e) => e.instance === ctl.identity)).toBe(true);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'Drained', 'Deleted']);
  expect(about(ev, `${APP}-${B}`).map((e) => e.reason)).toEqual(['Promoted', 'DrainStarted']);
  expect(about(ev, `${APP}-${B}`, ['DrainStarted'])[0]!.message).toMatch(/kept for rollback \(keep-colors 1\)/);
  expect(about(ev, `${APP}-${C}`).map((e) => e.reason)).toEqual(['Promoted']);
});

test('max-drain: a color still holding a connection is force-deleted through the guard at its deadline, with a DrainDeadlineExceeded Event', async () => {
  const A = 'a1b2c3';
  const B = 'b4d5e6';
  const MAX_DRAIN_S = 5;
  const ns = await namespace('ctl-maxdrain');
  const webhook = await webhookIn(ns);
  const ctl = controller(ns, 'ctl-maxdrain-1');

  await deployColor(ns, A);
  const nodePort = await serviceOn(ns, A, settings({ keep: 0, grace: '1h', maxDrain: `${MAX_DRAIN_S}s` }));
  const old = await openStream(clusterHost(), nodePort);
  expect(old.lines[0]).toBe(`The color is #${A}`);
  let cutAt: number | undefined;
  void old.closed.then(() => (cutAt = Date.now()));
  await upgrade(ns, A, B);
  const stamp = await drainStarted(ns, `${APP}-${A}`);
  const gone = deletionOf(ns, A);
  const deadline = Date.parse(stamp) + MAX_DRAIN_S * 1000;

  // Before the deadline, the guard refuses a plain delete: the connection is open.
  expect(Date.now()).toBeLessThan(deadline - 1000);
  expect(await connectionsOf(ns, A)).toBe(1);
  const refused = await kubectl(['-n', ns, 'delete', 'deployment', `${APP}-${A}`, '--wait=false']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/1 established connection/);

  const goneAt = await gone.gone(MAX_DRAIN_S * 1000 + INTERVAL_MS + SLACK_MS + 10_000);
  console.log(`max-drain: A deleted ${secs(goneAt - deadline)} after drain-started + max-drain (bound ${secs(INTERVAL_MS + SLACK_MS)})`);
  expect(goneAt).toBeGreaterThanOrEqual(deadline);
  expect(goneAt - deadline).toBeLessThanOrEqual(INTERVAL_MS + SLACK_MS);
  // The connection was open until the color went, then it was cut (the pod's grace period is 5 s).
  expect(cutAt === undefined || cutAt >= goneAt).toBe(true);

  // The guard saw the controller's delete and let it through because of the force annotation.
  const deletes = guardReviews(webhook, `${APP}-${A}`).filter((l) => l.operation === 'DELETE' && !l.dryRun);
  // (ours, refused for the open connection; then the controller's, allowed as forced)
  expect(decisions(deletes)).toEqual([
    [false, 'connections'],
    [true, 'forced'],
  ]);

  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(ev.every((e) => e.instance === ctl.identity)).toBe(true);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'DrainDeadlineExceeded', 'Deleted']);
  const exceeded = about(ev, `${APP}-${A}`, ['DrainDeadlineExceeded'])[0]!;
  expect(exceeded.type).toBe('Warning');
  expect(exceeded.message).toMatch(new RegExp(`past max-drain ${MAX_DRAIN_S}s, with 1 established connection at the last count; .*open connections are cut`));
  expect(about(ev, `${APP}-${A}`, ['Deleted'])[0]!.message).toMatch(/past max-drain$/);

  await old.closed;
  console.log(`max-drain: the client's stream was cut ${secs(cutAt! - goneAt)} after the delete`);
});

test('SIGKILL and restart of the controller mid-drain loses nothing, deletes nothing early and resumes the 0-streak', async () => {
  const A = 'a1b2c3';
  const B = 'b4d5e6';
  const GRACE_S = 4;
  const ID = 'ctl-restart'; // a restarted container keeps its pod's name, so its identity
  const ns = await namespace('ctl-restart');
  await webhookIn(ns);
  let ctl = controller(ns, ID);

  await deployColor(ns, A);
  const nodePort = await serviceOn(ns, A, settings({ keep: 0, grace: `${GRACE_S}s`, maxDrain: '1h' }));
  const old = await openStream(clusterHost(), nodePort);
  await upgrade(ns, A, B);
  const stamp = await drainStarted(ns, `${APP}-${A}`);
  // The Event follows the stamp; a kill between the two would lose the Event (Events are best
  // effort), and this test is about the drain, so kill after both.
  await eventsUntil(ns, 'DrainStarted event for A', (e) => about(e, `${APP}-${A}`, ['DrainStarted']).length > 0);
  const gone = deletionOf(ns, A);

  // Killed mid-drain with the connection open, restarted: A stays, drain-started is not rewritten.
  expect(await ctl.stop('SIGKILL')).toBeNull();
  ctl = controller(ns, ID);
  const ready1 = await ctl.logged('watching');
  await sleepUntil(ready1 + GRACE_S * 1000 + 2 * INTERVAL_MS + 1000);
  expect(gone.goneAt()).toBeUndefined();
  expect(await connectionsOf(ns, A)).toBe(1);
  expect(await drainStarted(ns, `${APP}-${A}`)).toBe(stamp);

  // The client leaves; the controller sees 0 for a while (less than drain-grace), writes when the
  // 0-streak started (rainbow.dev/zero-since) and is killed again. The restarted one resumes the
  // streak from that annotation: A goes drain-grace after the first 0, as without the restart
  // (lifecycle.test.ts kills it at every step).
  const closedAt = Date.now();
  old.socket.destroy();
  const zeroSince = Date.parse(await eventually('rainbow.dev/zero-since on A', async () => (await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${A}` })).metadata?.annotations?.['rainbow.dev/zero-since'], 10_000, 100));
  await sleepUntil(closedAt + GRACE_S * 1000 - 1500);
  expect(await ctl.stop('SIGKILL')).toBeNull();
  await new Promise((r) => setTimeout(r, 1000));
  expect(gone.goneAt()).toBeUndefined();
  const restartedAt = Date.now();
  ctl = controller(ns, ID);
  const goneAt = await gone.gone(30_000);
  const ready2 = await ctl.logged('watching');
  console.log(
    `restart: connection closed at +0s, controller killed at +${secs(restartedAt - 1000 - closedAt)}, restarted at +${secs(restartedAt - closedAt)} ` +
      `(watching ${secs(ready2 - restartedAt)} later), A deleted at +${secs(goneAt - closedAt)}`,
  );
  expect(goneAt - closedAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  // zero-since is rounded up to the second, so never more than a second before the first 0 read.
  expect(goneAt).toBeGreaterThanOrEqual(zeroSince + GRACE_S * 1000);
  expect(goneAt - zeroSince).toBeLessThanOrEqual(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS);
  expect(goneAt - Math.max(ready2, restartedAt)).toBeLessThan(GRACE_S * 1000);

  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(about(ev, `${APP}-${A}`).map((e) => e.reason)).toEqual(['DrainStarted', 'Drained', 'Deleted']);
  expect(about(ev, `${APP}-${A}`, ['Deleted'])[0]!.at).toBeGreaterThanOrEqual(Math.floor(restartedAt / 1000) * 1000);
});

test('two replicas under one Lease: only the holder acts; kill it and the other takes over and finishes the drain', async () => {
  const A = 'a1b2c3';
  const B = 'b4d5e6';
  const GRACE_S = 3;
  const ns = await namespace('ctl-ha');
  await webhookIn(ns);
  const replicas = [controller(ns, 'ctl-one'), controller(ns, 'ctl-two')];

  const held = await eventually('Lease rainbow-controller held', async () => {
    const l = await lease(ns);
    return l?.spec?.holderIdentity ? l : undefined;
  }, 30_000, 200);
  const leader = replicas.find((r) => r.identity === held.spec!.holderIdentity)!;
  const standby = replicas.find((r) => r !== leader)!;
  expect(leader).toBeDefined();
  await eventually('leader gauge 1 on the holder, 0 on the other', async () => (await leader.leaderGauge()) === 1 && (await standby.leaderGauge()) === 0, 10_000, 200);

  // Sample both replicas' rainbow_controller_leader until the leader is killed: exactly one acts.
  const samples: Array<[number, number]> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      // A scrape that times out on a busy machine is skipped, not counted.
      const s = await Promise.all([leader.leaderGauge(), standby.leaderGauge()]).catch(() => undefined);
      if (s) samples.push(s);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  afterTest(async () => {
    sampling = false;
    await sampler.catch(() => undefined);
  });

  await deployColor(ns, A);
  const nodePort = await serviceOn(ns, A, settings({ keep: 0, grace: `${GRACE_S}s`, maxDrain: '1h' }));
  const old = await openStream(clusterHost(), nodePort);
  await upgrade(ns, A, B);
  await drainStarted(ns, `${APP}-${A}`);
  const gone = deletionOf(ns, A);
  const before = await eventsUntil(ns, 'Promoted and DrainStarted events', (e) => about(e, `${APP}-${A}`, ['DrainStarted']).length === 1 && e.filter((x) => x.reason === 'Promoted').length === 2);
  expect(before.map((e) => e.instance)).toEqual(before.map(() => leader.identity));
  expect((await lease(ns))?.spec?.holderIdentity).toBe(leader.identity);
  const transitions = (await lease(ns))?.spec?.leaseTransitions ?? 0;

  sampling = false;
  await sampler;
  expect(samples.length).toBeGreaterThan(10);
  expect(samples.filter(([a, b]) => a + b !== 1)).toEqual([]);
  expect(samples.every(([a]) => a === 1)).toBe(true);

  // Kill the leader (no Lease release), then the client leaves A.
  const killedAt = Date.now();
  expect(await leader.stop('SIGKILL')).toBeNull();
  const closedAt = Date.now();
  old.socket.destroy();
  const takeover = await eventually('the standby holds the Lease', async () => {
    const l = await lease(ns);
    return l?.spec?.holderIdentity === standby.identity ? l : undefined;
  }, LEASE_DURATION_MS + LEASE_RETRY_MS + SLACK_MS + 5000, 200);
  const tookOverAt = Date.now();
  expect(takeover.spec?.leaseTransitions).toBe(transitions + 1);
  const leadingAt = await standby.logged('leading', 5000);
  expect(await standby.leaderGauge()).toBe(1);
  const goneAt = await gone.gone(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS + 5000);
  console.log(`ha: leader ${leader.identity} killed; ${standby.identity} took over ${secs(tookOverAt - killedAt)} later and deleted A ${secs(goneAt - leadingAt)} after it started leading`);
  expect(leadingAt - killedAt).toBeLessThanOrEqual(LEASE_DURATION_MS + LEASE_RETRY_MS + SLACK_MS);
  expect(leadingAt).toBeGreaterThan(killedAt); // it never led while the leader was alive
  expect(goneAt - closedAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  expect(goneAt - leadingAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
  expect(goneAt - leadingAt).toBeLessThanOrEqual(GRACE_S * 1000 + INTERVAL_MS + SLACK_MS);

  // Who did what: Promoted and DrainStarted from the first leader only, Drained and Deleted from
  // the second only, nothing at all from the standby before the leader died.
  const ev = await eventsUntil(ns, 'Deleted event for A', (e) => about(e, `${APP}-${A}`, ['Deleted']).length > 0);
  expect(ev.filter((e) => e.host !== e.instance)).toEqual([]); // source.host and reportingInstance agree
  const by = (reason: string) => ev.filter((e) => e.reason === reason).map((e) => `${e.kind}/${e.object}@${e.instance}`);
  expect(by('Promoted').sort()).toEqual([`Deployment/${APP}-${B}@${leader.identity}`, `Service/${APP}@${leader.identity}`]);
  expect(by('DrainStarted')).toEqual([`Deployment/${APP}-${A}@${leader.identity}`]);
  expect(by('Drained')).toEqual([`Deployment/${APP}-${A}@${standby.identity}`]);
  expect(by('Deleted')).toEqual([`Deployment/${APP}-${A}@${standby.identity}`]);
  expect(ev.filter((e) => e.instance === standby.identity && e.at < Math.floor(killedAt / 1000) * 1000)).toEqual([]);
  // The logs agree.
  const msgs = (c: ControllerProcess) => c.lines().map((l) => l.msg);
  expect(msgs(leader)).toContain('promoted');
  expect(msgs(leader)).not.toContain('deleted');
  expect(msgs(standby)).not.toContain('promoted');
  expect(msgs(standby)).not.toContain('drain started');
  expect(msgs(standby)).toContain('deleted');
  expect(standby.lines().filter((l) => l.msg === 'leading')).toHaveLength(1);
});
