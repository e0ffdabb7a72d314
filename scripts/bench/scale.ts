// `npm run bench -- scale` (issue 17): rainbow's webhook and controller among many apps. Objects
// are made directly in the local API server, with no processes behind them: per app 3 colors
// (draining, kept, serving) × 5 pods shaped like chart/rainbow-app's and a Service; 100 and
// 1,000 apps by default, each measured once without and once with 10,000 pods that are not
// rainbow's (in the same namespaces as the first apps). scale/objects.ts and scale/cluster.ts say
// how the objects get real statuses without a kubelet; `design` in the result says what is real.
//
// Per scale and foreign-pod setting, with fresh processes inside the cluster's network namespace:
//  1. `rainbow webhook`: RSS and V8 heap once its caches have synced and after a steady review
//     load (scale/reviews.ts: the mix and why), review latency per kind from the scheduled moment.
//  2. `rainbow controller` (--interval 10s): CPU (/proc/PID/stat utime + stime, sampled every
//     100 ms) from its start to its first round (relist + first round: a full resync), then the
//     drain rounds that follow (bursts of CPU between idle intervals), its RSS after them.
//  3. `rainbow controller` (--interval 1h, so that no drain round overlaps): another full resync,
//     then promotions of one app among them all, timed as promotion.ts does.
//
// Options (environment): RAINBOW_SCALE_APPS (default "100,1000"), RAINBOW_SCALE_FOREIGN (10000),
// RAINBOW_SCALE_QUICK=1 (apps "20,100", 2,000 foreign pods, shorter phases), RAINBOW_BENCH_KEEP_LOGS=1.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, Watch, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { up } from '../cluster/control-plane.js';
import { kubeconfigPath } from '../cluster/paths.js';
import { type Daemon } from '../cluster/processes.js';
import { percentiles, round, type Percentiles } from './common.js';
import { mulberry32 } from './seeded-random.js';
import { benchApi, type Api } from './scale/api.js';
import { createApps, createColorPods, createDeployment, createForeignPods, createReplicaSet, deleteNamespaces, deletePodsNow, SETTLE_MS, startBenchNodes, waitAvailable, type PodPlacement } from './scale/cluster.js';
import { APP_COLORS, appName, COUNTED_PORT, IP_BLOCK, namespaceOfApp, PODS_PER_COLOR, templateHash, type Layout } from './scale/objects.js';
import { reporterDrops, sendReviews, seriesCount, startBenchNetns, startController, startHolder, startReporters, startWebhook, type BenchNetns } from './scale/processes.js';
import { bursts, cpuMsBetween, idleFor, readProcStatus, ticksToMs, type CpuSample, type ProcMemory } from './scale/proc.js';
import { appObjects, drawKinds, FOREIGN_KIND, REVIEW_MIX, reviewFor, reviewPath, type AppObjects, type ReviewKind } from './scale/reviews.js';
import { checkForeignGoal, checkGoals, foreignOverheadPct, formatRatios, formatTable, growth, type GoalCheck, type RunFigures } from './scale/summary.js';

export interface ScaleOptions {
  scales?: number[];
  foreignPods?: number;
  appsPerNamespace?: number;
  reviewRate?: number;
  reviewSeconds?: number;
  /** Drain rounds measured after the first. */
  rounds?: number;
  promotions?: number;
  /** Connections every pod reads (held in the benchmark's namespace on the counted port). */
  connections?: number;
  /** rainbow reporter processes answering the pods (apps spread over them by rainbow.dev/connections-port). */
  reporters?: number;
  /** net.ipv4.tcp_child_ehash_entries of the benchmark's network namespace. */
  ehashEntries?: number;
  say?: (line: string) => void;
}

export interface WebhookFigures {
  syncMs: number;
  idle: ProcMemory;
  afterLoad: ProcMemory;
  heapUsedMiB: { idle: number; afterLoad: number };
  reviews: {
    rate: number;
    seconds: number;
    answered: number;
    failures: number;
    wrongAnswers: Record<string, number>;
    /** Kinds decided from the caches alone (no reporter asked, no API call). */
    cachedMs: Percentiles;
    /** The rainbow mix (every kind but pod-evict-foreign). */
    allMs: Percentiles;
    byKind: Record<string, Percentiles & { count: number }>;
    examples: Record<string, string>;
  };
}

export interface RoundFigures {
  cpuMs: number;
  wallS: number;
  reporterCpuMs: number;
}

export interface ControllerFigures {
  /** Full resyncs: relist of every labelled Service and Deployment, then the first round over every app (from 'rainbow controller starting' to 'watching'). */
  resyncs: Array<{ relistCpuMs: number; firstRoundCpuMs: number; cpuMs: number; wallS: number; writes: number }>;
  /** Drain rounds in the measured window (pod LISTs / apps). */
  roundsMeasured: number;
  /** Controller CPU from the end of the first round to 3 s after the last measured one. */
  windowCpuMs: number;
  /** windowCpuMs / roundsMeasured: a round's CPU, with the idle time between rounds. */
  perRoundCpuMs: number;
  /** Each round's burst of CPU (separated by 5 s of idle), with the reporters' CPU meanwhile. */
  rounds: RoundFigures[];
  roundCpuMs: Percentiles;
  /** Pod LISTs (namespaced) the API server served during the measured rounds, per round: one per app is the drain check's. */
  podListsPerRound: number;
  /** PATCHes of Deployments, pods and Services during the measured rounds (the controller's writes). */
  writesDuringRounds: number;
  idleCpuMsPerSecond: number;
  /** Colors with a count (rainbow_color_connections series) after the rounds, of all colors: a color with a pod that could not be asked has none. */
  colorsCounted: number;
  colorsExpected: number;
  /** Connections the reporters closed at accept during the measurement (their own connection cap), from their logs. */
  reporterDropped: number;
  afterRounds: ProcMemory;
  heapUsedMiB: number;
  warnings: string[];
}

export interface ScaleRun {
  name: string;
  apps: number;
  rainbowPods: number;
  foreignPods: number;
  namespaces: number;
  webhook: WebhookFigures;
  controller: ControllerFigures;
  promotion: { iterations: number; ms: Percentiles; samples: number[]; resync: ControllerFigures['resyncs'][number]; afterPromotions: ProcMemory };
}

export interface ScaleResult {
  design: string;
  reviewMix: Array<{ kind: string; weight: number; allowed: boolean; podsAsked: number; what: string }>;
  options: Required<Omit<ScaleOptions, 'say'>>;
  runs: ScaleRun[];
  figures: RunFigures[];
  growth: Array<{ from: string; to: string; ratios: Record<string, number | undefined> }>;
  foreignOverheadPct: Array<{ apps: number; pct: Record<string, number | undefined>; met: boolean; over: string[] }>;
  goals: GoalCheck[];
  minutes: number;
}

const NODES = ['rainbow-scale-node-0', 'rainbow-scale-node-1', 'rainbow-scale-node-2', 'rainbow-scale-node-3', 'rainbow-scale-node-4'];
const NODE_IPS = ['10.250.1.10', '10.250.1.11', '10.250.1.12', '10.250.1.13', '10.250.1.14'];
const PLACE: PodPlacement = { nodes: NODES, hostIPs: NODE_IPS };
const enc = encodeURIComponent;
const CREATE_BATCH = 100;
const mibOf = (bytes: number) => round(bytes / 2 ** 20, 1);

function optionsFromEnv(o: ScaleOptions): Required<Omit<ScaleOptions, 'say'>> {
  const quick = process.env.RAINBOW_SCALE_QUICK === '1';
  const scales = (o.scales ?? (process.env.RAINBOW_SCALE_APPS ?? (quick ? '20,100' : '100,1000')).split(',').map((s) => Number(s.trim()))).sort((a, b) => a - b);
  if (scales.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`RAINBOW_SCALE_APPS must be app counts, e.g. 100,1000; got ${process.env.RAINBOW_SCALE_APPS}`);
  return {
    scales,
    foreignPods: o.foreignPods ?? Number(process.env.RAINBOW_SCALE_FOREIGN ?? (quick ? 2000 : 10000)),
    appsPerNamespace: o.appsPerNamespace ?? 10,
    reviewRate: o.reviewRate ?? 100,
    reviewSeconds: o.reviewSeconds ?? (quick ? 10 : 30),
    rounds: o.rounds ?? 2,
    promotions: o.promotions ?? (quick ? 10 : 20),
    connections: o.connections ?? 2,
    reporters: o.reporters ?? Number(process.env.RAINBOW_SCALE_REPORTERS ?? 32),
    ehashEntries: o.ehashEntries ?? 4096,
  };
}

const rawList = <T>(api: Api, p: string) => api.get<{ items: T[] }>(p).then((l) => l.items);

/** Up to `n` apps' objects, as the API server has them, for the reviews; and some foreign pods. */
async function reviewTargets(api: Api, layout: Layout, apps: number, n: number, rand: () => number, foreign: boolean): Promise<{ apps: AppObjects[]; foreign: V1Pod[] }> {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, apps)) chosen.add(Math.floor(rand() * apps));
  const out: AppObjects[] = [];
  await Promise.all(
    [...chosen].map(async (i) => {
      const ns = namespaceOfApp(layout, i);
      const app = appName(i);
      const sel = `labelSelector=${enc(`rainbow.dev/app=${app}`)}`;
      const [svc, deployments, pods] = await Promise.all([
        api.get<V1Service>(`/api/v1/namespaces/${ns}/services/${app}`),
        rawList<V1Deployment>(api, `/apis/apps/v1/namespaces/${ns}/deployments?${sel}`),
        rawList<V1Pod>(api, `/api/v1/namespaces/${ns}/pods?${sel}`),
      ]);
      const o = appObjects(svc, deployments, pods);
      if (o) out.push(o);
    }),
  );
  const foreignPods = foreign ? await rawList<V1Pod>(api, `/api/v1/pods?labelSelector=${enc('rainbow.dev/bench=foreign')}&limit=500`) : [];
  return { apps: out, foreign: foreignPods };
}

async function measureWebhook(api: Api, ns: BenchNetns, dir: string, layout: Layout, apps: number, foreign: boolean, o: Required<Omit<ScaleOptions, 'say'>>, say: (l: string) => void): Promise<WebhookFigures> {
  const rand = mulberry32(apps * 7 + (foreign ? 1 : 0));
  const started = Date.now();
  const w = await startWebhook(ns, dir, `${apps}${foreign ? '-foreign' : ''}`, 600_000);
  try {
    const pid = w.pid;
    const syncMs = Date.now() - started;
    await sleep(2000);
    const idle = readProcStatus(pid);
    const heapIdle = mibOf(await w.metric('rainbow_nodejs_heap_size_used_bytes'));
    say(`    webhook (pid ${pid}) serving from synced caches ${round(syncMs / 1000, 1)} s after its start: RSS ${idle.rssMiB} MiB (anon ${idle.anonMiB}), heap used ${heapIdle} MiB`);
    const targets = await reviewTargets(api, layout, apps, 200, rand, foreign);
    const mix = foreign ? [...REVIEW_MIX, FOREIGN_KIND] : [...REVIEW_MIX];
    const kinds = drawKinds(mix, 3000, rand);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const spec = new Map(mix.map((k) => [k.kind, k]));
    const reviews = kinds.map((kind) => ({ kind, path: reviewPath(kind), allowed: spec.get(kind)!.allowed, body: reviewFor(kind, randomUUID(), pick(targets.apps), targets.foreign.length ? pick(targets.foreign) : undefined, pick) }));
    const planFile = path.join(dir, `reviews-${apps}-${foreign ? 'foreign' : 'plain'}.json`);
    const resultFile = `${planFile}.result`;
    writeFileSync(planFile, JSON.stringify({ url: w.url, ca: w.ca, rate: o.reviewRate, warmupSeconds: 3, seconds: o.reviewSeconds, sockets: 16, reviews }));
    say(`    ${o.reviewRate} reviews/s for ${o.reviewSeconds} s (after 3 s of warm-up) over ${targets.apps.length} apps${foreign ? ` and ${targets.foreign.length} foreign pods` : ''}`);
    const sent = await sendReviews(ns, planFile, resultFile, (o.reviewSeconds + 60) * 1000);
    const afterLoad = readProcStatus(pid);
    const heapAfter = mibOf(await w.metric('rainbow_nodejs_heap_size_used_bytes'));
    const byKind: WebhookFigures['reviews']['byKind'] = {};
    for (const [k, ms] of Object.entries(sent.byKind)) byKind[k] = { count: ms.length, ...percentiles(ms, 2) };
    const cachedKinds = new Set(REVIEW_MIX.filter((k) => k.podsAsked === 0).map((k) => k.kind as string));
    const rainbowKinds = new Set(REVIEW_MIX.map((k) => k.kind as string));
    const collect = (keep: Set<string>) => Object.entries(sent.byKind).flatMap(([k, ms]) => (keep.has(k) ? ms : []));
    const answered = Object.values(sent.byKind).reduce((s, ms) => s + ms.length, 0);
    const r: WebhookFigures = {
      syncMs,
      idle,
      afterLoad,
      heapUsedMiB: { idle: heapIdle, afterLoad: heapAfter },
      reviews: {
        rate: o.reviewRate,
        seconds: o.reviewSeconds,
        answered,
        failures: sent.failures,
        wrongAnswers: sent.wrongAnswers,
        cachedMs: percentiles(collect(cachedKinds), 2),
        allMs: percentiles(collect(rainbowKinds), 2),
        byKind,
        examples: sent.examples,
      },
    };
    say(`    reviews: ${answered} answered, ${sent.failures} failed, wrong answers ${JSON.stringify(sent.wrongAnswers)}; from the caches p50 ${r.reviews.cachedMs.p50} ms, p99 ${r.reviews.cachedMs.p99} ms; whole mix p99 ${r.reviews.allMs.p99} ms`);
    for (const [k, p] of Object.entries(byKind)) say(`      ${k.padEnd(30)} ${String(p.count).padStart(5)}  p50 ${p.p50} ms  p99 ${p.p99} ms  max ${p.max} ms`);
    say(`    webhook after the load: RSS ${afterLoad.rssMiB} MiB (peak ${afterLoad.peakRssMiB}, anon ${afterLoad.anonMiB}, file ${afterLoad.fileMiB}), heap used ${heapAfter} MiB`);
    if (sent.failures > 0 || Object.keys(sent.wrongAnswers).length > 0) throw new Error(`the webhook failed ${sent.failures} reviews and answered ${JSON.stringify(sent.wrongAnswers)} otherwise than expected; e.g. ${JSON.stringify(sent.examples)}`);
    return r;
  } finally {
    await w.stop();
  }
}

const WRITE_LABELS = ['deployments', 'pods', 'services'].map((r) => `resource="${r}",scope="namespace",subresource="",verb="PATCH"`);
const writes = async (api: Api) => (await Promise.all(WRITE_LABELS.map((l) => api.metric('apiserver_request_total', l)))).reduce((a, b) => a + b, 0);
const podLists = (api: Api) => api.metric('apiserver_request_total', 'resource="pods",scope="namespace",subresource="",verb="LIST"');

function resyncOf(samples: readonly CpuSample[], m: { starting: number; synced: number; watching: number }, writesMade: number) {
  return {
    relistCpuMs: round(cpuMsBetween(samples, m.starting, m.synced), 0),
    firstRoundCpuMs: round(cpuMsBetween(samples, m.synced, m.watching), 0),
    cpuMs: round(cpuMsBetween(samples, m.starting, m.watching), 0),
    wallS: round((m.watching - m.starting) / 1000, 1),
    writes: writesMade,
  };
}

async function measureController(api: Api, ns: BenchNetns, dir: string, tag: string, apps: number, reporters: Array<Daemon & { port: number }>, o: Required<Omit<ScaleOptions, 'say'>>, say: (l: string) => void): Promise<ControllerFigures> {
  // A handful of reporters answer for every pod, each in turn: a round's answers queue there, so
  // the pod timeout is longer than the default 2 s.
  const podTimeoutS = 30;
  const reporterSamples = reporters.map((r) => ({ pid: r.pid, samples: [] as CpuSample[] }));
  const dropsBefore = reporterDrops(reporters.map((r) => r.log));
  const writesBefore = await writes(api);
  const c = await startController(ns, dir, `${tag}-rounds`, ['--interval=10s', `--pod-timeout=${podTimeoutS}s`], 100, 30 * 60_000, reporterSamples);
  try {
    const writesAtWatching = await writes(api);
    const resync = resyncOf(c.samples, c.marks, writesAtWatching - writesBefore);
    say(`    controller (pid ${c.pid}, --interval 10s, --pod-timeout ${podTimeoutS}s): ${c.marks.apps} apps; full resync ${resync.cpuMs} ms CPU (relist ${resync.relistCpuMs}, first round ${resync.firstRoundCpuMs}) in ${resync.wallS} s, ${resync.writes} writes`);
    // The rounds after the first: counted by the pod LISTs the API server served (the drain check
    // LISTs each app's pods once per round; nothing else LISTs pods by namespace meanwhile), the
    // window closed once the controller has been idle for 3 s after the last of them.
    const listsBefore = await podLists(api);
    const from = c.marks.watching;
    const deadline = Date.now() + (o.rounds + 1) * (10_000 + podTimeoutS * 1000 + 120_000);
    for (;;) {
      await sleep(2000);
      if ((await podLists(api)) - listsBefore >= o.rounds * apps) break;
      if (Date.now() > deadline) throw new Error(`fewer than ${o.rounds} drain rounds' pod LISTs within ${(deadline - from) / 1000} s; see ${c.log}`);
    }
    while (!idleFor(c.samples, 3000, 2)) {
      await sleep(200);
      if (Date.now() > deadline) throw new Error(`the controller was not idle for 3 s after its drain rounds; see ${c.log}`);
    }
    const to = c.samples[c.samples.length - 1]!.t;
    const lists = (await podLists(api)) - listsBefore;
    const writesDuring = (await writes(api)) - writesAtWatching;
    const roundsSeen = round(lists / apps, 2);
    const windowCpuMs = cpuMsBetween(c.samples, from, to);
    const perRoundCpuMs = round(windowCpuMs / roundsSeen, 0);
    const reporterCpu = (a: number, b: number) => reporterSamples.reduce((sum, r) => sum + cpuMsBetween(r.samples, a, b), 0);
    // Each round's own span: the bursts of CPU separated by 5 s of idle (rounds are 10 s apart).
    const spans = bursts(c.samples.filter((x) => x.t >= from && x.t <= to), 5000, 5);
    const rounds = spans.map((b) => ({ cpuMs: round(ticksToMs(b.ticks), 0), wallS: round((b.end - b.start) / 1000, 1), reporterCpuMs: round(reporterCpu(b.start, b.end), 0) }));
    const idleCpuMsPerSecond = round(cpuMsBetween(c.samples, to - 3000, to) / 3, 2);
    const afterRounds = readProcStatus(c.pid);
    const heapUsedMiB = mibOf(await c.metric('rainbow_nodejs_heap_size_used_bytes'));
    const warnings = c.problems().slice(0, 10);
    const colorsCounted = seriesCount(await c.metricsText(), 'rainbow_color_connections');
    const reporterDropped = reporterDrops(reporters.map((x) => x.log)) - dropsBefore;
    const r: ControllerFigures = {
      colorsCounted,
      colorsExpected: apps * APP_COLORS.length,
      reporterDropped,
      resyncs: [resync],
      roundsMeasured: roundsSeen,
      windowCpuMs: round(windowCpuMs, 0),
      perRoundCpuMs,
      rounds,
      roundCpuMs: percentiles(rounds.length ? rounds.map((x) => x.cpuMs) : [perRoundCpuMs], 0),
      podListsPerRound: round(lists / roundsSeen, 1),
      writesDuringRounds: writesDuring,
      idleCpuMsPerSecond,
      afterRounds,
      heapUsedMiB,
      warnings,
    };
    say(`      ${roundsSeen} drain rounds (by pod LISTs): ${round(windowCpuMs, 0)} ms CPU in ${round((to - from) / 1000, 1)} s, ${perRoundCpuMs} ms per round`);
    for (const x of rounds) say(`      a round's burst: ${x.cpuMs} ms CPU over ${x.wallS} s (the ${reporters.length} reporters: ${x.reporterCpuMs} ms CPU)`);
    say(`    ${colorsCounted} of ${r.colorsExpected} colors counted at the last round${reporterDropped ? `; the reporters dropped ${reporterDropped} connections at accept (their connection cap)` : ''}`);
    say(`    ${r.podListsPerRound} pod LISTs and ${round(writesDuring / roundsSeen, 1)} writes per round; idle ${idleCpuMsPerSecond} ms CPU/s; RSS ${afterRounds.rssMiB} MiB (peak ${afterRounds.peakRssMiB}, anon ${afterRounds.anonMiB}), heap used ${heapUsedMiB} MiB${warnings.length ? `; warnings: ${warnings.slice(0, 3).join(' | ')}` : ''}`);
    return r;
  } finally {
    await c.stop();
  }
}

interface PromotionState {
  /** The promoted app's colors, oldest first; the last serves. */
  colors: string[];
  next: number;
  serial: number;
}

async function deleteColorNow(api: Api, ns: string, app: string, color: string): Promise<void> {
  const orphan = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' };
  await api.del(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-${color}`, orphan);
  await api.del(`/apis/apps/v1/namespaces/${ns}/replicasets/${app}-${color}-${templateHash(app, color)}`, orphan);
  await api.request('DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0&labelSelector=${enc(`rainbow.dev/app=${app},rainbow.dev/color=${color}`)}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
}

async function measurePromotion(api: Api, ns_: BenchNetns, dir: string, tag: string, layout: Layout, state: PromotionState, o: Required<Omit<ScaleOptions, 'say'>>, say: (l: string) => void) {
  const ns = namespaceOfApp(layout, 0);
  const app = appName(0);
  const writesBefore = await writes(api);
  const c = await startController(ns_, dir, `${tag}-promotion`, ['--interval=1h', '--pod-timeout=30s'], 100, 30 * 60_000);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const watch = new Watch(kc);
  const available = new Map<string, number>();
  const switched = new Map<string, number>();
  const aborts: AbortController[] = [];
  try {
    const resync = resyncOf(c.samples, c.marks, (await writes(api)) - writesBefore);
    say(`    controller (pid ${c.pid}, --interval 1h): full resync ${resync.cpuMs} ms CPU (relist ${resync.relistCpuMs}, first round ${resync.firstRoundCpuMs}) in ${resync.wallS} s; promoting ${app} in ${ns}`);
    aborts.push(
      await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, { labelSelector: `rainbow.dev/app=${app}` }, (_t, d: V1Deployment) => {
        const color = d.metadata?.labels?.['rainbow.dev/color'];
        if (color && !available.has(color) && isDeploymentAvailable(d)) available.set(color, performance.now());
      }, () => undefined),
      await watch.watch(`/api/v1/namespaces/${ns}/services`, { labelSelector: `rainbow.dev/app=${app}` }, (_t, s: V1Service) => {
        const color = s.spec?.selector?.['rainbow.dev/color'];
        if (color && !switched.has(color)) switched.set(color, performance.now());
      }, () => undefined),
    );
    await sleep(500);
    const samples: number[] = [];
    for (let i = 0; i < o.promotions; i++) {
      const color = `p${String(state.next++).padStart(5, '0')}`;
      // What the webhook writes when Helm asks for a color that is not Available yet.
      await api.mergePatch(`/api/v1/namespaces/${ns}/services/${app}`, { metadata: { annotations: { 'rainbow.dev/pending-color': color } } });
      const spec = { app, namespace: ns, color };
      await createColorPods(api, spec, PLACE, state.serial % (256 * 253 - PODS_PER_COLOR), IP_BLOCK.promotion, o.reporters);
      state.serial += PODS_PER_COLOR;
      await sleep(SETTLE_MS);
      await createReplicaSet(api, spec);
      await sleep(SETTLE_MS);
      await createDeployment(api, spec);
      const deadline = Date.now() + 60_000;
      while (!(available.has(color) && switched.has(color))) {
        if (Date.now() > deadline) throw new Error(`color ${color}: no promotion within 60 s (available: ${available.has(color)}, switched: ${switched.has(color)}); see ${c.log}`);
        await sleep(10);
      }
      const ms = switched.get(color)! - available.get(color)!;
      samples.push(ms);
      state.colors.push(color);
      // Three colors stay: the oldest (draining) goes, as the controller would delete it once drained.
      const oldest = state.colors.shift()!;
      await deleteColorNow(api, ns, app, oldest);
      if (i < 3 || i === o.promotions - 1) say(`      ${color}: Available → Service switched in ${ms.toFixed(1)} ms`);
    }
    const afterPromotions = readProcStatus(c.pid);
    const p = percentiles(samples);
    say(`    promotion of ${app} among ${c.marks.apps} apps: p50 ${p.p50} ms, p90 ${p.p90} ms, p99 ${p.p99} ms, max ${p.max} ms; controller RSS ${afterPromotions.rssMiB} MiB`);
    return { iterations: o.promotions, ms: p, samples: samples.map((x) => round(x)), resync, afterPromotions };
  } finally {
    for (const a of aborts) a.abort();
    await c.stop();
  }
}

function figuresOf(r: ScaleRun): RunFigures {
  return {
    name: r.foreignPods ? `${r.apps} apps + ${r.foreignPods} foreign` : `${r.apps} apps`,
    apps: r.apps,
    foreignPods: r.foreignPods,
    figures: {
      webhookRssMiB: r.webhook.afterLoad.rssMiB,
      webhookHeapUsedMiB: r.webhook.heapUsedMiB.afterLoad,
      reviewP99CachedMs: r.webhook.reviews.cachedMs.p99,
      reviewP99AllMs: r.webhook.reviews.allMs.p99,
      controllerRssMiB: r.controller.afterRounds.rssMiB,
      controllerPeakRssMiB: r.controller.afterRounds.peakRssMiB,
      controllerHeapUsedMiB: r.controller.heapUsedMiB,
      drainRoundCpuMs: r.controller.perRoundCpuMs,
      resyncCpuMs: round((r.controller.resyncs[0]!.cpuMs + r.promotion.resync.cpuMs) / 2, 0),
      promotionP99Ms: r.promotion.ms.p99,
    },
  };
}

export async function benchScale(opts: ScaleOptions = {}): Promise<ScaleResult> {
  const say = opts.say ?? console.log;
  const o = optionsFromEnv(opts);
  const t0 = Date.now();
  await up();
  const api = await benchApi(50);
  const id = Date.now().toString(36).slice(-5);
  const layout: Layout = { prefix: `scale-${id}`, appsPerNamespace: o.appsPerNamespace };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-bench-scale-'));
  const keepLogs = process.env.RAINBOW_BENCH_KEEP_LOGS === '1';
  const runs: ScaleRun[] = [];
  const allNamespaces = new Set<string>();
  const state: PromotionState = { colors: [...APP_COLORS], next: 1, serial: 0 };
  let nodes: { stop(): Promise<void> } | undefined;
  let netns: BenchNetns | undefined;
  let failed = true;
  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= (async () => {
      say('\n  tearing down');
      await netns?.stop().catch((err: Error) => say(`    processes: ${err.message}`));
      await deleteNamespaces(api, [...allNamespaces], say).catch((err: Error) => say(`    namespaces: ${err.message}`));
      await nodes?.stop().catch((err: Error) => say(`    nodes: ${err.message}`));
      api.close();
      if (failed || keepLogs) say(`  logs kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    })());
  // Interrupted (Ctrl-C): the processes, objects and Nodes of the run go all the same.
  const onSignal = () => void teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  say(`  apps ${o.scales.join(', ')} × ${APP_COLORS.length} colors × ${PODS_PER_COLOR} pods, ${o.appsPerNamespace} apps per namespace; ${o.foreignPods} foreign pods; logs in ${dir}`);
  try {
    nodes = await startBenchNodes(api, NODES, NODE_IPS, say);
    say(`  ${NODES.length} Nodes without a kubelet, kept Ready by this process's heartbeat (status + Lease every 10 s)`);
    netns = await startBenchNetns(dir, o.ehashEntries, 256);
    await startHolder(netns, dir, COUNTED_PORT, o.connections);
    const reporters = await startReporters(netns, dir, o.reporters, COUNTED_PORT);
    say(
      `  a network namespace of the benchmark's inside the cluster's (TCP hash table of ${o.ehashEntries} entries, TIME_WAIT capped at 256), reaching the API server through the project's forwarder and portal; ` +
        `in it ${o.reporters} rainbow reporters on 0.0.0.0:${reporters.map((r) => r.port).join(',')} counting port ${COUNTED_PORT}, where a holder keeps ${o.connections} connections: every pod reads ${o.connections}`,
    );

    let have = 0;
    let foreignPresent = false;
    const firstNamespaces = () => [...new Set(Array.from({ length: Math.min(have, 10 * o.appsPerNamespace) }, (_, i) => namespaceOfApp(layout, i)))];
    const measure = async (apps: number) => {
      const foreign = foreignPresent ? o.foreignPods : 0;
      const name = foreign ? `${apps} apps + ${foreign} foreign pods` : `${apps} apps`;
      say(`\n  == ${name}`);
      const tag = `${apps}${foreign ? '-foreign' : ''}`;
      const webhook = await measureWebhook(api, netns!, dir, layout, apps, foreign > 0, o, say);
      const controller = await measureController(api, netns!, dir, tag, apps, reporters, o, say);
      const promotion = await measurePromotion(api, netns!, dir, tag, layout, state, o, say);
      controller.resyncs.push(promotion.resync);
      runs.push({ name, apps, rainbowPods: apps * APP_COLORS.length * PODS_PER_COLOR, foreignPods: foreign, namespaces: Math.ceil(apps / o.appsPerNamespace), webhook, controller, promotion });
    };
    const toggleForeign = async () => {
      const nss = firstNamespaces();
      if (foreignPresent) {
        say(`\n  deleting the ${o.foreignPods} foreign pods`);
        await deletePodsNow(api, nss, 'rainbow.dev/bench=foreign', say, 'foreign pods');
      } else {
        say(`\n  creating ${o.foreignPods} foreign pods in ${nss.length} namespaces (next to apps 0–${Math.min(have, 10 * o.appsPerNamespace) - 1})`);
        await createForeignPods(api, nss, o.foreignPods, PLACE, say);
      }
      foreignPresent = !foreignPresent;
    };
    for (const apps of o.scales) {
      if (apps > have) {
        say(`\n  creating apps ${have}–${apps - 1} (${(apps - have) * APP_COLORS.length} Deployments, ${(apps - have) * APP_COLORS.length * PODS_PER_COLOR} pods, ${apps - have} Services)`);
        const t = Date.now();
        for (let i = have; i < apps; i++) allNamespaces.add(namespaceOfApp(layout, i));
        // In batches, each waited for until Available: 2,700 Deployments at once left the local
        // cluster's deployment controller minutes behind its informers (status updates refused
        // with 409, keys backed off) on two shared cores.
        for (let from = have; from < apps; from += CREATE_BATCH) await createApps(api, layout, from, Math.min(apps, from + CREATE_BATCH), PLACE, o.connections, o.reporters, say);
        have = apps;
        say(`    done in ${round((Date.now() - t) / 1000, 0)} s`);
      }
      await measure(apps);
      await toggleForeign();
      await waitAvailable(api, [...allNamespaces], say);
      await measure(apps);
    }
    failed = false;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }

  const figures = runs.map(figuresOf).sort((a, b) => a.apps - b.apps || a.foreignPods - b.foreignPods);
  const plain = figures.filter((f) => f.foreignPods === 0);
  const growthRows = plain.slice(1).map((f) => ({ from: plain[0]!.name, to: f.name, ratios: growth(plain[0]!, f) }));
  const overhead = o.scales.map((apps) => {
    const without = figures.find((f) => f.apps === apps && f.foreignPods === 0)!;
    const withF = figures.find((f) => f.apps === apps && f.foreignPods > 0)!;
    const pct = foreignOverheadPct(without, withF);
    return { apps, pct, ...checkForeignGoal(pct) };
  });
  const result: ScaleResult = {
    design:
      'Objects made directly in the API server, no container behind them. Per app: 3 colors (draining: drain-started 2 h ago, its pods carrying the deletion cost the controller would write; kept: 1 h ago; serving) × 5 pods shaped like chart/rainbow-app (demo app + reporter sidecar) and a ClusterIP Service; 10 apps per namespace. ' +
      "Each color: its pods created first, bound (spec.nodeName) to one of 5 Node objects no kubelet runs (tainted NoSchedule; this process posts their Ready status and renews their kube-node-lease Leases every 10 s, so the node lifecycle controller neither taints them nor marks their pods NotReady), each pod's status written through pods/status as a kubelet would (Running, Ready, podIP in 127.0.0.0/8); then its ReplicaSet (5 replicas), then its Deployment: the local cluster's real ReplicaSet and deployment controllers (every controller on, as always) adopt the pods and the ReplicaSet and compute the statuses, so Availability is theirs; a pod they made on their own would use an image nothing here runs (none did: counted after each creation). " +
      `rainbow webhook, rainbow controller and ${o.reporters} real rainbow reporters run as processes in a network namespace of the benchmark's, made inside the cluster's (as a pod's would be) with net.ipv4.tcp_child_ehash_entries ${o.ehashEntries} in the cluster's namespace, so that its TCP hash table is that small: a namespace made from the host's shares the host's 262,144-bucket table, and reading /proc/net/tcp walks it (~4 ms of kernel time per reporter answer here, a minute of both cores per drain round at 1,000 apps); TIME_WAIT is capped there (256), since one namespace for every pod would otherwise list the answers of the last minute on each read. Their API connections go through the project's forwarder (on that namespace's 127.0.0.1:6443) and the cluster's portal. ` +
      "All of 127.0.0.0/8 is local in that namespace: the reporters listen on 0.0.0.0:9471… each, and every pod's rainbow.dev/connections-port (the contract's per-pod port) names one of them in turn, so pods keep addresses of their own and the reporters' connection cap (64 each) is shared out; they count port 18081, where a holder process keeps 2 connections: every pod reads 2, no color drains, nothing is deleted or shrunk, so each drain round repeats the same work and writes nothing. In a cluster each pod's reporter answers only for its pod; here they answer for ~470 pods each at 1,000 apps. The EndpointSlice controller rejects loopback endpoints, so the app Services have none (nothing reads them here). " +
      'RSS from /proc/PID/status, CPU from /proc/PID/stat utime+stime sampled every 100 ms, V8 heap from each process\'s /metrics; every measurement starts fresh processes. The webhook is not registered with the API server: a sender in the same namespace POSTs AdmissionReviews shaped like the API server\'s (test/fixtures/admission/recorded), built from the objects as the API server holds them, at a steady rate over 16 keep-alive connections, each timed from its scheduled moment. ' +
      'Drain rounds: the controller (--interval 10s, --pod-timeout 30s) arms a round 10 s after the last one ended; the burst of its CPU that starts then is the round, cross-checked by the pod LISTs the API server served (one per app per round). Full resync: its CPU from "rainbow controller starting" to "watching" (LIST of every labelled Service and Deployment, then the first round over every app). Promotion: a second controller with --interval 1h, so that no round overlaps; app 0 gets rainbow.dev/pending-color, then its new color (made as above) becomes Available; from that Deployment seen Available to its Service seen selecting it, both through this process\'s watches (host forward). ' +
      'Foreign pods: plain pods (labels app and app.kubernetes.io/name, no rainbow.dev labels, a resource request), Running on the same Nodes, in the namespaces of the first 100 apps.',
    reviewMix: [...REVIEW_MIX, FOREIGN_KIND].map((k) => ({ kind: k.kind, weight: k.weight, allowed: k.allowed, podsAsked: k.podsAsked, what: k.what })),
    options: o,
    runs,
    figures,
    growth: growthRows,
    foreignOverheadPct: overhead,
    goals: checkGoals(figures),
    minutes: round((Date.now() - t0) / 60_000, 1),
  };
  say('');
  for (const l of formatTable(figures)) say(`  ${l}`);
  for (const g of growthRows) say(`  growth ${g.from} → ${g.to}: ${formatRatios(g.ratios, (v) => `×${v}`)}`);
  for (const f of overhead) say(`  foreign pods at ${f.apps} apps: ${formatRatios(f.pct, (v) => `${v >= 0 ? '+' : ''}${v}%`)} (goal < 5 %: ${f.met ? 'met' : `not met: ${f.over.join(', ')}`})`);
  say(`  goals: ${result.goals.map((g) => `${g.figure} ${g.run} ${g.value} ${g.goal} ${g.met ? '✔' : '✘'}`).join('; ')}`);
  return result;
}

export type { ReviewKind };
