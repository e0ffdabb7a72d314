// Shrinking a draining color, measured: the README's case (one color of 16 pods holding 1,600
// long-lived connections) time-compressed on the local cluster, drained once with shrink on and
// once with shrink off, with the real `rainbow controller` (a process in the cluster's namespace,
// 1 s drain checks) and the real `rainbow webhook` in the API server's path (registered by URL
// with the chart's own webhook configurations), so every scale-down and delete goes through the
// guard.
//
// Per run: a Service (ClusterIP; keep-colors 0, drain-grace 5 s, rainbow.dev/shrink true or
// false) on color A, a Deployment of 16 pods of the demo app with the reporter sidecar. 1,600
// streams are opened to the Service's ClusterIP by one client process inside the cluster's
// namespace (shrink-clients.ts), so kube-proxy spreads them over A's pods at random as it does
// for any client; the reporters must count all 1,600. Then color B (1 pod) comes up and the
// Service is switched to it: the drain starts, and each stream i is closed by its client
// lifetimes[i] after that moment. The lifetimes are lognormal (median 3 s, σ 1, capped at 150 s;
// seeded, the same in both runs): most clients leave within seconds, a few hold on for minutes.
//
// Measured from the switch until A's last pod is gone (A is deleted after drain-grace at 0):
//  - pod-seconds: the integral of A's pods over time (every pod the API server still lists that
//    has not finished, terminating ones included: they hold their resources until they are gone),
//    sampled every 200 ms;
//  - connections cut: streams that ended, by the server's doing, before their planned lifetime
//    (the client records it); must be 0;
//  - the controller's Shrunk Events, and when the last connection closed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { execArgs } from '../cluster/control-plane.js';
import { kubeProxyEndpoints } from '../cluster/kube-proxy-rules.js';
import { clusterGet } from '../cluster/network/portal.js';
import { insideKubeconfigPath, repoRoot } from '../cluster/paths.js';
import { eventually } from '../cluster/poll.js';
import { isRunning, startDaemon, stopDaemon, type Daemon } from '../cluster/processes.js';
import { rainbowCommand } from '../cluster/rainbow-command.js';
import { renderWebhookConfigurations } from '../cluster/webhook-registration.js';
import { benchCluster, round } from './common.js';
import { startWebhookProcess } from './webhook-process.js';
import { appService, colorDeployment } from '../cluster/app-objects.js';
import { mulberry32 } from './seeded-random.js';

export interface ShrinkOptions {
  pods?: number;
  connections?: number;
  /** Lognormal lifetimes: median (s), σ of its logarithm, cap (s), seed. */
  lifetimes?: { medianS: number; sigma: number; capS: number; seed: number };
  drainGraceS?: number;
  /** The controller's RAINBOW_LOG_LEVEL (default info; debug logs every shrink held, and why). */
  controllerLogLevel?: string;
  /** Keep the controller's log and the clients' plans (default: only when the benchmark fails, or RAINBOW_BENCH_KEEP_LOGS=1). */
  keepLogs?: boolean;
  say?: (line: string) => void;
}

export interface ShrinkRun {
  shrink: boolean;
  /** Integral of the draining color's pods from the switch until its last pod was gone. */
  podSeconds: number;
  /**
   * The same integral until the last connection closed: what shrinking saves while clients are
   * still there, without the deletion that follows (drain-grace, the delete, any refusal).
   */
  podSecondsUntilLastClose: number;
  /** From the switch until the color's last pod was gone. */
  drainSeconds: number;
  /** From the switch until the last connection closed (its client closed it). */
  lastConnectionClosedS: number;
  /** After the last connection closed, until the last pod was gone (drain-grace + a drain check + the delete). */
  deletedAfterLastCloseS: number;
  connections: { opened: number; countedByReporters: number; perPodAtSwitch: number[]; closedAsPlanned: number; cut: number };
  /** The controller's Shrunk Events for the color, in order. */
  shrinks: Array<{ atS: number; message: string }>;
  /** Other Events of the controller about the color (DeleteRefused, ShrinkRefused, …), with their messages. */
  otherEvents: Array<{ atS: number; reason: string; message: string }>;
  /** The number of the color's pods over time (s since the switch), at each change. */
  podsOverTime: Array<[number, number]>;
}

export interface ShrinkResult {
  design: string;
  pods: number;
  connections: number;
  lifetimes: { distribution: string; seed: number; p50S: number; p90S: number; p99S: number; maxS: number };
  drainGraceSeconds: number;
  controllerIntervalSeconds: number;
  runs: { on: ShrinkRun; off: ShrinkRun };
  podSecondsRatioOffOverOn: number;
  podSecondsUntilLastCloseRatioOffOverOn: number;
  connectionsCut: number;
}

export function lognormalLifetimesMs(n: number, o: { medianS: number; sigma: number; capS: number; seed: number }): number[] {
  const rand = mulberry32(o.seed);
  const out: number[] = [];
  while (out.length < n) {
    // Box–Muller: two uniforms → two standard normals.
    const u = Math.max(rand(), Number.EPSILON);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    for (const z of [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)]) {
      if (out.length < n) out.push(Math.round(Math.min(o.capS, o.medianS * Math.exp(o.sigma * z)) * 1000));
    }
  }
  return out;
}

const INTERVAL = '1s';
const BENCH_IMAGE = 'rainbow:bench';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Clients {
  proc: ChildProcess;
  ready: Promise<{ opened: number; failed: number }>;
  done: Promise<{ closedAsPlanned: number; cut: number; stillOpen: number; tookMs: number }>;
  cuts: Array<{ i: number; why: string; atMs: number; plannedMs: number }>;
  start(): void;
  stop(): void;
}

function startClients(planFile: string): Clients {
  const client = path.join(repoRoot, 'dist', 'scripts', 'bench', 'shrink-clients.js');
  const [cmd, ...args] = execArgs([process.execPath, client, planFile]);
  const proc = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const cuts: Clients['cuts'] = [];
  let onReady: (v: { opened: number; failed: number }) => void = () => undefined;
  let onDone: (v: { closedAsPlanned: number; cut: number; stillOpen: number; tookMs: number }) => void = () => undefined;
  let onExit: (e: Error) => void = () => undefined;
  const ready = new Promise<{ opened: number; failed: number }>((resolve, reject) => {
    onReady = resolve;
    onExit = reject;
  });
  const done = new Promise<{ closedAsPlanned: number; cut: number; stillOpen: number; tookMs: number }>((resolve, reject) => {
    onDone = resolve;
    const prev = onExit;
    onExit = (e) => {
      prev(e);
      reject(e);
    };
  });
  done.catch(() => undefined);
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    let e: { event?: string } & Record<string, unknown>;
    try {
      e = JSON.parse(l) as typeof e;
    } catch {
      return;
    }
    if (e.event === 'ready') onReady(e as unknown as { opened: number; failed: number });
    else if (e.event === 'cut') cuts.push(e as unknown as Clients['cuts'][number]);
    else if (e.event === 'done') onDone(e as unknown as { closedAsPlanned: number; cut: number; stillOpen: number; tookMs: number });
  });
  proc.once('exit', (code) => onExit(new Error(`the benchmark's clients exited (code ${code}) before they were done`)));
  return {
    proc,
    ready,
    done,
    cuts,
    start: () => proc.stdin!.write('start\n'),
    stop: () => {
      proc.stdin!.end();
      if (proc.exitCode === null) setTimeout(() => proc.exitCode === null && proc.kill('SIGKILL'), 3000).unref();
    },
  };
}

export async function benchShrink(opts: ShrinkOptions = {}): Promise<ShrinkResult> {
  const say = opts.say ?? console.log;
  const pods = opts.pods ?? 16;
  const n = opts.connections ?? 1600;
  const lt = opts.lifetimes ?? { medianS: 3, sigma: 1, capS: 150, seed: 20261201 };
  const graceS = opts.drainGraceS ?? 5;
  const keepLogs = opts.keepLogs ?? process.env.RAINBOW_BENCH_KEEP_LOGS === '1';
  const lifetimesMs = lognormalLifetimesMs(n, lt);
  const sorted = [...lifetimesMs].sort((a, b) => a - b);
  const q = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! / 1000, 1);
  say(`  lifetimes: lognormal median ${lt.medianS} s, σ ${lt.sigma}, cap ${lt.capS} s, seed ${lt.seed}: p50 ${q(0.5)} s, p90 ${q(0.9)} s, p99 ${q(0.99)} s, max ${q(1)} s`);

  const { core, apps, admission } = await benchCluster();
  const id = Date.now().toString(36);
  const ns = `bench-shrink-${id}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-bench-shrink-'));
  await core.createNamespace({ body: { metadata: { name: ns } } });

  const webhook = await startWebhookProcess({ where: 'inside', args: ['--pod-timeout', '2s'] });
  let configName: string | undefined;
  let controller: Daemon | undefined;
  let failed = true;
  try {
    const rendered = await renderWebhookConfigurations({ name: `rainbow-bench-shrink-${id}`, namespace: ns, url: webhook.url, caBundle: Buffer.from(webhook.ca).toString('base64') });
    configName = rendered.name;
    await admission.createMutatingWebhookConfiguration({ body: rendered.mutating });
    await admission.createValidatingWebhookConfiguration({ body: rendered.validating });
    const rainbow = rainbowCommand();
    const log = path.join(dir, 'controller.log');
    const [cmd, ...args] = execArgs([
      rainbow.node, ...rainbow.args, 'controller', `--kubeconfig=${insideKubeconfigPath}`, `--namespace=${ns}`, `--interval=${INTERVAL}`, '--metrics-port=0', '--bind=127.0.0.1',
    ]);
    controller = startDaemon('controller', cmd!, args, log, { ...process.env, RAINBOW_LOG_LEVEL: opts.controllerLogLevel ?? 'info' });
    say(`  namespace ${ns}: webhook ${webhook.url} (pid ${webhook.pid}) registered, controller pid ${controller.pid} (--interval ${INTERVAL}; log ${log})`);

    const run = async (shrink: boolean): Promise<ShrinkRun> => {
      const app = `shrink-${shrink ? 'on' : 'off'}`;
      const [A, B] = shrink ? ['a1a1a1', 'b1b1b1'] : ['a0a0a0', 'b0b0b0'];
      const hint = { abort: () => (controller && isRunning(controller) ? undefined : `rainbow controller exited; see ${log}`) };
      const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': `${graceS}s`, 'rainbow.dev/max-drain': '1h', 'rainbow.dev/shrink': String(shrink) };
      const svc = await core.createNamespacedService({ namespace: ns, body: appService(app, A, annotations, 'ClusterIP') });
      await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(app, A, { replicas: pods, image: BENCH_IMAGE, terminationGracePeriodSeconds: 10 }) });
      const t0 = Date.now();
      await eventually(`${app}-${A} Available (${pods} pods)`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `${app}-${A}` })), 300_000, 500, hint);
      say(`  [${app}] ${pods} pods of ${A} Available in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const ips = (await core.listNamespacedPod({ namespace: ns, labelSelector: `rainbow.dev/app=${app},rainbow.dev/color=${A}` })).items.map((p) => p.status?.podIP);
      await eventually(`kube-proxy sending ${app}'s connections to all ${pods} pods`, async () => {
        const eps = (await kubeProxyEndpoints(ns, app)).get('tcp') ?? [];
        return eps.length === pods && ips.every((ip) => ip && eps.includes(ip));
      }, 60_000, 500);

      const planFile = path.join(dir, `${app}-plan.json`);
      writeFileSync(planFile, JSON.stringify({ host: svc.spec!.clusterIP!, port: 8081, lifetimesMs, openBatch: 50, graceMs: 60_000 }));
      const clients = startClients(planFile);
      try {
        const ready = await Promise.race([clients.ready, sleep(180_000).then(() => Promise.reject(new Error('the clients did not open their streams within 180 s')))]);
        if (ready.opened !== n) throw new Error(`the clients opened ${ready.opened} of ${n} streams (${ready.failed} failed)`);
        const listPods = async (c: string): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: ns, labelSelector: `rainbow.dev/app=${app},rainbow.dev/color=${c}` })).items;
        // Every stream is on one of A's pods: their reporters count them all.
        const perPod = await eventually(`${n} connections counted by ${A}'s reporters`, async () => {
          const counts = await Promise.all(
            (await listPods(A)).map(async (p) => (JSON.parse((await clusterGet(`http://${p.status!.podIP}:9471/connections`, 3000)).body) as { established: number }).established),
          );
          return counts.reduce((x, y) => x + y, 0) === n ? counts.sort((x, y) => y - x) : undefined;
        }, 30_000, 500);
        say(`  [${app}] ${n} streams open through ClusterIP ${svc.spec!.clusterIP}; per pod: ${perPod.join(' ')}`);

        await apps.createNamespacedDeployment({ namespace: ns, body: colorDeployment(app, B, { replicas: 1, image: BENCH_IMAGE, terminationGracePeriodSeconds: 10 }) });
        await eventually(`${app}-${B} Available`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `${app}-${B}` })), 120_000, 200, hint);

        // The switch: the drain starts, and so do the clients' lifetimes.
        await core.patchNamespacedService({ namespace: ns, name: app, body: { spec: { selector: { 'rainbow.dev/color': B } } } }, merge);
        const switchedAt = Date.now();
        clients.start();
        let lastClose: number | undefined;
        void clients.done.then(() => (lastClose = Date.now()));

        // Sample A's pods until none is left (the Deployment deleted, its pods gone).
        const over: Array<[number, number]> = [];
        const samples: Array<{ t: number; count: number }> = [{ t: switchedAt, count: pods }];
        let podSeconds = 0;
        let prev = { t: switchedAt, count: pods };
        let goneAt: number | undefined;
        const limit = switchedAt + lt.capS * 1000 + 180_000;
        for (;;) {
          if (Date.now() > limit) throw new Error(`${app}-${A} still has pods ${(limit - switchedAt) / 1000} s after the switch`);
          const msg = hint.abort();
          if (msg) throw new Error(msg);
          const list = await listPods(A).catch(() => undefined);
          const t = Date.now();
          if (list) {
            const count = list.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
            podSeconds += (prev.count * (t - prev.t)) / 1000;
            samples.push({ t, count });
            if (over.length === 0 || over[over.length - 1]![1] !== count) over.push([round((t - switchedAt) / 1000, 1), count]);
            prev = { t, count };
            if (count === 0) {
              goneAt = t;
              break;
            }
          }
          await sleep(200);
        }
        const done = await Promise.race([clients.done, sleep(10_000).then(() => undefined)]);
        if (!done) throw new Error('the clients did not report the end of their streams');
        const all = (await core.listNamespacedEvent({ namespace: ns })).items
          .filter((e) => e.involvedObject.name === `${app}-${A}` && (e.reportingComponent || e.source?.component) === 'rainbow-controller')
          .map((e) => ({ at: new Date((e.firstTimestamp ?? e.metadata.creationTimestamp) as unknown as string).getTime(), reason: e.reason ?? '', message: e.message ?? '' }))
          .sort((x, y) => x.at - y.at);
        const events = all.filter((e) => e.reason === 'Shrunk');
        const usual = new Set(['Shrunk', 'DrainStarted', 'Drained', 'Deleted']);
        const closedAt = lastClose ?? goneAt;
        let untilClose = 0;
        for (let k = 1; k < samples.length; k++) {
          const a = samples[k - 1]!;
          const b = Math.min(samples[k]!.t, closedAt);
          if (b > a.t) untilClose += (a.count * (b - a.t)) / 1000;
        }
        const r: ShrinkRun = {
          shrink,
          podSeconds: round(podSeconds, 0),
          podSecondsUntilLastClose: round(untilClose, 0),
          drainSeconds: round((goneAt - switchedAt) / 1000, 1),
          lastConnectionClosedS: round(((lastClose ?? goneAt) - switchedAt) / 1000, 1),
          deletedAfterLastCloseS: round((goneAt - (lastClose ?? goneAt)) / 1000, 1),
          connections: { opened: ready.opened, countedByReporters: n, perPodAtSwitch: perPod, closedAsPlanned: done.closedAsPlanned, cut: done.cut + done.stillOpen },
          shrinks: events.map((e) => ({ atS: round((e.at - switchedAt) / 1000, 0), message: e.message })),
          otherEvents: all.filter((e) => !usual.has(e.reason)).map((e) => ({ atS: round((e.at - switchedAt) / 1000, 0), reason: e.reason, message: e.message })),
          podsOverTime: over,
        };
        if (clients.cuts.length > 0) say(`  [${app}] cut: ${JSON.stringify(clients.cuts.slice(0, 5))}`);
        say(
          `  [${app}] ${r.podSeconds} pod-seconds (${r.podSecondsUntilLastClose} until the last connection closed); last connection closed at +${r.lastConnectionClosedS} s, last pod gone at +${r.drainSeconds} s; ` +
            `${r.shrinks.length} shrink${r.shrinks.length === 1 ? '' : 's'}; ${r.connections.cut} connections cut`,
        );
        for (const s of r.shrinks) say(`      +${s.atS} s ${s.message}`);
        for (const e of r.otherEvents) say(`      +${e.atS} s ${e.reason}: ${e.message.slice(0, 300)}`);
        await apps.deleteNamespacedDeployment({ namespace: ns, name: `${app}-${B}` }).catch(() => undefined);
        await core.deleteNamespacedService({ namespace: ns, name: app }).catch(() => undefined);
        return r;
      } finally {
        clients.stop();
      }
    };

    const on = await run(true);
    const off = await run(false);
    failed = false;
    return {
      design:
        `one color of ${pods} pods (demo app + reporter sidecar) holding ${n} streams opened through its Service's ClusterIP from the cluster's namespace; ` +
        `the Service switched to a new color; each stream closed by its client after a lognormal lifetime from the switch; ` +
        `rainbow controller (--interval ${INTERVAL}) and rainbow webhook (the guard, in the API server's path) as processes in the cluster's namespace; ` +
        `pod-seconds = integral of the old color's pods (terminating ones included) from the switch until its last pod was gone, sampled every 200 ms`,
      pods,
      connections: n,
      lifetimes: { distribution: `lognormal, median ${lt.medianS} s, sigma ${lt.sigma}, capped at ${lt.capS} s`, seed: lt.seed, p50S: q(0.5), p90S: q(0.9), p99S: q(0.99), maxS: q(1) },
      drainGraceSeconds: graceS,
      controllerIntervalSeconds: 1,
      runs: { on, off },
      podSecondsRatioOffOverOn: round(off.podSeconds / on.podSeconds, 2),
      podSecondsUntilLastCloseRatioOffOverOn: round(off.podSecondsUntilLastClose / on.podSecondsUntilLastClose, 2),
      connectionsCut: on.connections.cut + off.connections.cut,
    };
  } finally {
    if (controller) await stopDaemon(controller);
    if (configName) {
      await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
      await admission.deleteValidatingWebhookConfiguration({ name: configName }).catch(() => undefined);
    }
    await webhook.stop(failed);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    if (failed || keepLogs) say(`  logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
