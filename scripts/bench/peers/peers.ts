// `npm run bench -- peers`: one release of the demo app under each strategy in turn — a plain
// Deployment's rolling update, Argo Rollouts blue-green, Flagger, rainbow — on the local cluster
// (real kube-apiserver, controller manager, scheduler, kube-proxy in nftables mode, the node
// simulator running the app's pods as processes in their own network namespaces), with the same
// clients and the same plan for each:
//
//  - 200 long-lived TCP streams to the app's ClusterIP :8081, opened before the release, each
//    closed by its client a planned lifetime after the release (seeded lognormal, median 18 s,
//    σ 1, capped at 120 s: the same for every strategy), every line recorded; a stream that ends
//    any other way first is cut;
//  - 20 short connections a second through the same ClusterIP (an HTTP GET on :8080, a TCP
//    connect and first line on :8081, alternately), from a few seconds before the release to the
//    end, each with the color it was answered with or its failure;
//  - the old version's pods (by the app container's RAINBOW_COLOR, terminating ones included),
//    listed every 250 ms from the release until the last is gone.
//
// The clients are one process inside the cluster's network namespace (clients.ts), so kube-proxy
// spreads them as it would any client's. Each strategy gets a namespace of its own; everything a
// run starts (controllers, clients, namespaces, CRDs) is stopped or removed at its end, also when
// it fails or is interrupted (SIGINT/SIGTERM). A strategy that cannot run here is reported as
// such, with its reason, and the others still run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi, type V1Pod } from '@kubernetes/client-node';
import { execArgs, toolVersions, up } from '../../cluster/control-plane.js';
import { kubeProxyEndpoints } from '../../cluster/kube-proxy-rules.js';
import { kubeconfigPath, repoRoot } from '../../cluster/paths.js';
import { eventually } from '../../cluster/poll.js';
import { runCommand } from '../../cluster/processes.js';
import { round } from '../common.js';
import { servedBy } from './app-objects.js';
import { argoRollouts } from './argo-rollouts.js';
import { deployment } from './deployment.js';
import { goneAt, podSeconds, summariseProbes, summariseStreams, type PodSample, type ProbeFigures, type ProbeRecord, type StreamFigures, type StreamRecord } from './figures.js';
import { DEFAULT_LIFETIMES, DEFAULT_PROBES, planLifetimesMs, summarisePlan, type LifetimeOptions, type PlanSummary, type ProbePlan } from './plan.js';
import { rainbow } from './rainbow.js';
import { colorOfPod, type AppVersion, type PeerContext, type Strategy } from './strategy.js';

/** A strategy as the benchmark lists it: loading it may find that it cannot run here. */
export interface StrategyEntry {
  name: string;
  load(): Promise<Strategy | { couldNotRun: string }>;
}

/**
 * scripts/bench/peers/flagger.ts is written separately: it exports `flagger` (a Strategy or a
 * function giving one, or giving `{ couldNotRun }`), and may export a reason it cannot run
 * (`flaggerCannotRun`, `couldNotRun` or `reason`, a string or a function giving one). Loaded by a
 * computed path so that this harness builds and runs whether or not the file is there.
 */
async function loadFlagger(): Promise<Strategy | { couldNotRun: string }> {
  const file = './flagger.js';
  let m: Record<string, unknown>;
  try {
    m = (await import(file)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { couldNotRun: e.code === 'ERR_MODULE_NOT_FOUND' ? 'scripts/bench/peers/flagger.ts is not there' : `scripts/bench/peers/flagger.ts did not load: ${e.message}` };
  }
  for (const key of ['flaggerCannotRun', 'couldNotRun', 'reason']) {
    const r = m[key];
    const reason = typeof r === 'function' ? await (r as () => unknown)() : r;
    if (typeof reason === 'string' && reason) return { couldNotRun: reason };
  }
  const f = m.flagger;
  const s = typeof f === 'function' ? await (f as () => unknown)() : f;
  if (s && typeof s === 'object' && 'couldNotRun' in s && typeof (s as { couldNotRun: unknown }).couldNotRun === 'string') return s as { couldNotRun: string };
  if (s && typeof s === 'object' && typeof (s as Strategy).release === 'function') return s as Strategy;
  return { couldNotRun: 'scripts/bench/peers/flagger.ts exports no `flagger` strategy' };
}

/** The strategies, in the order they run. */
export const STRATEGIES: StrategyEntry[] = [
  { name: 'deployment', load: async () => deployment },
  { name: 'argo-rollouts', load: async () => argoRollouts() },
  { name: 'flagger', load: loadFlagger },
  { name: 'rainbow', load: async () => rainbow() },
];

export interface PeersOptions {
  replicas?: number;
  lifetimes?: LifetimeOptions;
  probes?: ProbePlan;
  /** Names of the strategies to run (default all; RAINBOW_BENCH_PEERS=deployment,rainbow picks some). */
  only?: string[];
  colors?: { old: string; new: string };
  /** Keep the logs and records folder (default: only when a strategy fails, or RAINBOW_BENCH_KEEP_LOGS=1). */
  keepLogs?: boolean;
  say?: (line: string) => void;
}

export interface PeerRun {
  name: string;
  version: string;
  settings: string;
  /** Seconds the strategy's release call took (helm upgrade, a PUT, a patch). */
  releaseCallS: number;
  streams: Omit<StreamFigures, 'lastOldStreamEndAt'> & { perColorAtRelease: Record<string, number>; lastOldStreamEndS?: number };
  shortConnections: ProbeFigures;
  oldVersion: {
    podsAtRelease: number;
    /** The old version's pods integrated from the release until its last one was gone (or the end of the measurement). */
    podSeconds: number;
    /** Seconds from the release until its last pod was gone; undefined if it was not gone by the end. */
    goneS?: number;
    /** From the last stream that was on it ending (however it ended) to its last pod gone. */
    removedAfterLastStreamS?: number;
  };
  /** The measurement ended at its deadline, not because the old version was gone and every stream had ended. */
  timedOut: boolean;
  measuredS: number;
  podsOverTime: { old: Array<[number, number]>; new: Array<[number, number]> };
}

export type PeerOutcome = ({ ran: true } & PeerRun) | { ran: false; name: string; version?: string; couldNotRun?: string; failed?: string };

export interface PeersResult {
  design: string;
  versions: { kubernetes: string; helm: string; argoRollouts?: string; flagger?: string; rainbowCommit: string };
  replicas: number;
  colors: { old: string; new: string };
  streams: PlanSummary;
  shortConnections: ProbePlan & { kinds: string };
  strategies: PeerOutcome[];
}

// What to undo if a second signal comes (the newest last). The first SIGINT/SIGTERM only sets
// `interrupted`: the run stops at its next check and its own finally blocks stop and remove what
// it started; a second one runs these at once and exits.
const undo: Array<() => Promise<void>> = [];
let interrupted = false;
let undoing = false;
function onSignal(sig: NodeJS.Signals): void {
  if (!interrupted) {
    interrupted = true;
    process.stderr.write(`\npeers: ${sig}: stopping; removing what the benchmark started (a second ${sig} does it at once and exits)…\n`);
    return;
  }
  if (undoing) return;
  undoing = true;
  void (async () => {
    for (const u of [...undo].reverse()) await u().catch(() => undefined);
    process.exit(130);
  })();
}
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

interface Clients {
  proc: ChildProcess;
  ready: Promise<{ opened: number; failed: number; colors: Record<string, number> }>;
  done: Promise<{ planned: number; cut: number; tookMs: number }>;
  cuts: number;
  send(line: string): void;
  report(file: string, timeoutMs: number): Promise<{ streams: StreamRecord[]; probes: ProbeRecord[] }>;
  stop(): Promise<void>;
}

function startClients(planFile: string, log: (l: string) => void): Clients {
  const script = path.join(repoRoot, 'dist', 'scripts', 'bench', 'peers', 'clients.js');
  const [cmd, ...args] = execArgs([process.execPath, script, planFile]);
  const proc = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiters = new Map<string, (e: Record<string, unknown>) => void>();
  let exited: Error | undefined;
  const failers = new Set<(e: Error) => void>();
  const waitFor = <T>(event: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      failers.add(reject);
      waiters.set(event, (e) => {
        failers.delete(reject);
        resolve(e as T);
      });
    });
  const c: Clients = {
    proc,
    ready: waitFor('ready'),
    done: waitFor('done'),
    cuts: 0,
    send: (line) => {
      if (proc.exitCode === null && proc.stdin?.writable) proc.stdin.write(`${line}\n`);
    },
    async report(file, timeoutMs) {
      const got = waitFor('report');
      c.send(`report ${file}`);
      await Promise.race([got, sleep(timeoutMs).then(() => Promise.reject(new Error(`the clients wrote no report within ${timeoutMs / 1000} s`)))]);
      return JSON.parse(readFileSync(file, 'utf8')) as { streams: StreamRecord[]; probes: ProbeRecord[] };
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin?.end();
      const gone = new Promise((r) => proc.once('exit', r));
      if (!(await Promise.race([gone.then(() => true), sleep(3000).then(() => false)]))) {
        proc.kill('SIGKILL');
        await Promise.race([gone, sleep(2000)]);
      }
    },
  };
  c.ready.catch(() => undefined);
  c.done.catch(() => undefined);
  createInterface({ input: proc.stderr! }).on('line', (l) => log(`clients stderr: ${l}`));
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    if (e.event === 'cut') c.cuts += 1;
    const w = waiters.get(String(e.event));
    if (w) {
      waiters.delete(String(e.event));
      w(e);
    }
  });
  proc.once('exit', (code, signal) => {
    exited = new Error(`the benchmark's clients exited (${signal ?? `code ${code}`})`);
    for (const f of failers) f(exited);
  });
  return c;
}

const changes = (samples: Array<{ t: number; n: number }>, from: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (const x of samples) if (out.length === 0 || out[out.length - 1]![1] !== x.n) out.push([round((x.t - from) / 1000, 1), x.n]);
  return out;
};

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what}: no answer within ${ms / 1000} s`)))]);

interface Common {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  id: string;
  dir: string;
  replicas: number;
  lifetimesMs: number[];
  lifetimes: LifetimeOptions;
  probes: ProbePlan;
  colors: { old: string; new: string };
  say: (l: string) => void;
}

async function runOne(s: Strategy, c: Common): Promise<PeerRun> {
  const namespace = `peers-${s.name}-${c.id}`.slice(0, 63).replace(/-+$/, '');
  const dir = path.join(c.dir, s.name);
  const say = (l: string) => c.say(`  [${s.name}] ${l}`);
  mkdirSync(dir, { recursive: true });
  const ctx: PeerContext = { kc: c.kc, core: c.core, apps: c.apps, custom: c.custom, namespace, app: 'app', image: 'rainbow:peers', dir, say };
  const v1: AppVersion = { color: c.colors.old, replicas: c.replicas };
  const v2: AppVersion = { color: c.colors.new, replicas: c.replicas };
  let clients: Clients | undefined;
  let installed = false;
  const cleanup = async () => {
    await clients?.stop();
    clients = undefined;
    if (installed) {
      installed = false;
      await withTimeout(s.uninstall(ctx), 240_000, `${s.name} uninstall`).catch((e: Error) => say(`uninstall: ${e.message}`));
    }
    await c.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await eventually(`namespace ${namespace} gone`, async () => c.core.readNamespace({ name: namespace }).then(() => false, () => true), 180_000, 500).catch((e: Error) => say(e.message));
  };
  undo.push(cleanup);
  try {
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
    const t0 = Date.now();
    installed = true;
    await s.install(ctx);
    checkInterrupted();
    say(`${s.version} installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const t1 = Date.now();
    await s.deploy(ctx, v1);
    checkInterrupted();
    say(`${c.replicas} pods of ${v1.color} serving in ${((Date.now() - t1) / 1000).toFixed(1)} s (namespace ${namespace})`);

    const svc = await c.core.readNamespacedService({ namespace, name: ctx.app });
    const clusterIP = svc.spec?.clusterIP;
    if (!clusterIP || clusterIP === 'None') throw new Error(`Service ${ctx.app} has no ClusterIP`);
    // A Service is served before kube-proxy has programmed every pod; streams opened in between would all go to the first ones.
    await eventually(`kube-proxy sending ${ctx.app}'s connections to its ${c.replicas} pods of ${v1.color}`, async () => {
      const served = (await servedBy(ctx)).filter((e) => e.color === v1.color).map((e) => e.ip);
      const chains = await kubeProxyEndpoints(namespace, ctx.app);
      return served.length === c.replicas && chains.size > 0 && [...chains.values()].every((ips) => ips.length === served.length && served.every((ip) => ips.includes(ip)));
    }, 60_000, 500);

    const planFile = path.join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({
      host: clusterIP, httpPort: 8080, tcpPort: 8081, lifetimesMs: c.lifetimesMs, openBatch: 25,
      probeRatePerS: c.probes.ratePerS, probeTimeoutMs: c.probes.timeoutMs, maxProbes: Math.ceil(c.probes.ratePerS * (c.lifetimes.capS + 400)), silentMs: 12_000,
    }));
    clients = startClients(planFile, say);
    const ready = await withTimeout(clients.ready, 120_000, 'the clients opening their streams');
    if (ready.opened !== c.lifetimesMs.length) throw new Error(`the clients opened ${ready.opened} of ${c.lifetimesMs.length} streams (${ready.failed} failed)`);
    if (Object.keys(ready.colors).some((k) => k !== v1.color)) throw new Error(`streams reached colors other than ${v1.color}: ${JSON.stringify(ready.colors)}`);
    const perPod = new Map<string, number>();
    {
      // Which pod each stream went to, from the conntrack table: how kube-proxy spread them.
      const ips = new Set((await servedBy(ctx)).map((e) => e.ip));
      const flows = await runCommand(execArgs(['conntrack', '-L', '-p', 'tcp', '--dport', '8081', '-d', clusterIP]), { where: "inside the cluster's namespace" }).catch(() => '');
      for (const m of flows.matchAll(/ESTABLISHED src=\S+ dst=\S+ sport=\d+ dport=8081 src=(\S+)/g)) if (ips.has(m[1]!)) perPod.set(m[1]!, (perPod.get(m[1]!) ?? 0) + 1);
    }
    say(`${ready.opened} streams open through ClusterIP ${clusterIP}:8081${perPod.size ? ` (per pod: ${[...perPod.values()].sort((a, b) => b - a).join(' ')})` : ''}`);
    clients.send('probe');
    await sleep(3000);
    checkInterrupted();

    // The release: the streams' lifetimes start now.
    const releaseAt = Date.now();
    clients.send(`release ${releaseAt}`);
    await s.release(ctx, v2);
    const releaseCallS = round((Date.now() - releaseAt) / 1000, 1);
    say(`released ${v2.color} (the call took ${releaseCallS} s); sampling the pods of ${v1.color} every 250 ms`);
    let doneAt: number | undefined;
    void clients.done.then(() => (doneAt = Date.now()), () => undefined);

    const oldSamples: PodSample[] = [];
    const newSamples: Array<{ t: number; n: number }> = [];
    const deadline = releaseAt + (c.lifetimes.capS + 150) * 1000;
    let lastProgress = releaseAt;
    let timedOut = false;
    for (let k = 0; ; k++) {
      checkInterrupted();
      if (Date.now() > deadline || k > 4 * (c.lifetimes.capS + 150) + 100) {
        timedOut = true;
        break;
      }
      const pods = await withTimeout(c.core.listNamespacedPod({ namespace }), 5000, 'listing pods').catch(() => undefined);
      const t = Date.now();
      if (pods) {
        const live = (p: V1Pod) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
        oldSamples.push({ t, count: pods.items.filter((p) => live(p) && colorOfPod(p) === v1.color).length });
        newSamples.push({ t, n: pods.items.filter((p) => live(p) && colorOfPod(p) === v2.color && !p.metadata?.deletionTimestamp && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length });
      }
      const gone = goneAt(oldSamples);
      if (t - lastProgress >= 10_000) {
        lastProgress = t;
        say(`+${Math.round((t - releaseAt) / 1000)} s: ${v1.color} pods ${oldSamples.at(-1)?.count ?? '?'}, ${v2.color} ready pods ${newSamples.at(-1)?.n ?? '?'}; streams cut so far ${clients.cuts}${doneAt ? ', all ended' : ''}`);
      }
      if (gone !== undefined && doneAt !== undefined && t - Math.max(gone, doneAt) >= 5000) break;
      await sleep(250);
    }
    const endAt = Date.now();
    const rec = await clients.report(path.join(dir, 'record.json'), 15_000);
    await clients.stop();
    clients = undefined;

    const st = summariseStreams(rec.streams, releaseAt, v1.color);
    const pr = summariseProbes(rec.probes, releaseAt, endAt, v1.color, v2.color);
    const gone = goneAt(oldSamples);
    const { lastOldStreamEndAt, ...streamFigures } = st;
    const run: PeerRun = {
      name: s.name,
      version: s.version,
      settings: s.settings,
      releaseCallS,
      streams: { ...streamFigures, perColorAtRelease: ready.colors, lastOldStreamEndS: lastOldStreamEndAt === undefined ? undefined : round((lastOldStreamEndAt - releaseAt) / 1000, 1) },
      shortConnections: pr,
      oldVersion: {
        podsAtRelease: c.replicas,
        podSeconds: round(podSeconds([{ t: releaseAt, count: c.replicas }, ...oldSamples], releaseAt, gone ?? endAt), 0),
        goneS: gone === undefined ? undefined : round((gone - releaseAt) / 1000, 1),
        removedAfterLastStreamS: gone !== undefined && lastOldStreamEndAt !== undefined ? round((gone - lastOldStreamEndAt) / 1000, 1) : undefined,
      },
      timedOut,
      measuredS: round((endAt - releaseAt) / 1000, 1),
      podsOverTime: { old: changes(oldSamples.map((x) => ({ t: x.t, n: x.count })), releaseAt), new: changes(newSamples, releaseAt) },
    };
    for (const line of describe(run)) say(line);
    return run;
  } finally {
    await cleanup();
    undo.splice(undo.indexOf(cleanup), 1);
  }
}

const opt = (x: number | undefined, unit = ' s') => (x === undefined ? '–' : `${x}${unit}`);

/** The figures of one strategy, as lines for a reader. */
export function describe(r: PeerRun): string[] {
  const st = r.streams;
  const sc = r.shortConnections;
  const cutBy = Object.entries(st.cutBy).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  return [
    `streams: ${st.cut} of ${st.total} cut${st.cut ? ` (${cutBy}; first at +${st.firstCutS} s, last at +${st.lastCutS} s; the shortest planned lifetime cut ${st.shortestCutPlanS} s)` : ''}, ${st.closedAsPlanned} closed as planned${st.stillOpen ? `, ${st.stillOpen} still open at the end` : ''}`,
    `short connections during the release: ${sc.failed} of ${sc.total} failed${sc.failures.length ? ` (${sc.failures.slice(0, 4).map((f) => `${f.count} ${f.kind} ${f.error}`).join(', ')})` : ''}; ` +
      `first new answer +${opt(sc.firstNewS)}, all new from +${opt(sc.allNewS)}, last old answer +${opt(sc.lastOldS)}`,
    `old version: ${r.oldVersion.podSeconds} pod-seconds, last pod gone at +${opt(r.oldVersion.goneS)}, ${opt(r.oldVersion.removedAfterLastStreamS)} after the last of its streams ended (+${opt(st.lastOldStreamEndS)})${r.timedOut ? ' (measurement stopped at its deadline)' : ''}`,
  ];
}

export async function benchPeers(opts: PeersOptions = {}): Promise<PeersResult> {
  const say = opts.say ?? console.log;
  const replicas = opts.replicas ?? 4;
  const lifetimes = opts.lifetimes ?? DEFAULT_LIFETIMES;
  const probes = opts.probes ?? DEFAULT_PROBES;
  const colors = opts.colors ?? { old: '1f77b4', new: 'ff7f0e' };
  const only = opts.only ?? process.env.RAINBOW_BENCH_PEERS?.split(',').map((x) => x.trim()).filter(Boolean);
  const keepLogs = opts.keepLogs ?? process.env.RAINBOW_BENCH_KEEP_LOGS === '1';
  const lifetimesMs = planLifetimesMs(lifetimes);
  const plan = summarisePlan(lifetimesMs, lifetimes);
  say(`  streams: ${plan.count}, ${plan.distribution}, seed ${plan.seed}: p50 ${plan.p50S} s, p90 ${plan.p90S} s, max ${plan.maxS} s; ${plan.over30s} planned over 30 s, ${plan.over60s} over 60 s, ${plan.atCap} at the cap`);
  say(`  short connections: ${probes.ratePerS}/s (HTTP GET :8080 and TCP first line :8081 alternately), timeout ${probes.timeoutMs / 1000} s; ${replicas} replicas; colors ${colors.old} → ${colors.new}`);

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-bench-peers-'));
  let anyFailed = false;
  try {
    await up();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const c: Common = {
      kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi),
      id: Date.now().toString(36), dir, replicas, lifetimesMs, lifetimes, probes, colors, say,
    };
    const kubernetes = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
    const commit = (() => {
      try {
        const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
        const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
        return `${head}${dirty ? ' (with uncommitted changes)' : ''}`;
      } catch {
        return 'unknown (not a git checkout)';
      }
    })();
    const tools = toolVersions();
    const versions: PeersResult['versions'] = { kubernetes, helm: tools.helm ?? '?', rainbowCommit: commit };
    say(`  Kubernetes ${kubernetes}, helm ${versions.helm}, rainbow ${commit}; logs and records in ${dir}`);

    const outcomes: PeerOutcome[] = [];
    for (const entry of STRATEGIES) {
      if (only && only.length > 0 && !only.includes(entry.name)) continue;
      if (interrupted) break;
      say(`\n  ${entry.name}`);
      let s: Strategy | { couldNotRun: string };
      try {
        s = await entry.load();
      } catch (err) {
        s = { couldNotRun: (err as Error).message };
      }
      if (interrupted) break;
      if ('couldNotRun' in s) {
        say(`  [${entry.name}] could not run: ${s.couldNotRun}`);
        outcomes.push({ ran: false, name: entry.name, couldNotRun: s.couldNotRun });
        continue;
      }
      try {
        const run = await runOne(s, c);
        outcomes.push({ ran: true, ...run });
        if (entry.name === 'argo-rollouts') versions.argoRollouts = s.version;
        if (entry.name === 'flagger') versions.flagger = s.version;
      } catch (err) {
        anyFailed = true;
        const msg = (err as Error).message;
        say(`  [${entry.name}] failed: ${msg}`);
        outcomes.push({ ran: false, name: entry.name, version: s.version, failed: msg });
      }
    }
    // An interrupted run writes no result.
    checkInterrupted();
    return {
      design:
        `per strategy, in a namespace of its own on the local cluster (kube-proxy nftables, the node simulator): the demo app at ${replicas} replicas behind Service app; ` +
        `${plan.count} TCP streams to its ClusterIP :8081 opened before the release and each closed by its client a planned lifetime after it (the same plan for every strategy), every line recorded; ` +
        `${probes.ratePerS} short connections a second through the same ClusterIP (HTTP GET :8080 reading X-Rainbow-Color, TCP :8081 reading the first line, alternately), from 3 s before the release; ` +
        'clients in one process inside the cluster network namespace; the old version\'s pods (by RAINBOW_COLOR, terminating ones included) listed every 250 ms from the release until none was left; ' +
        'a stream is cut when it ends by the server\'s side (FIN, reset, error, or no line for 12 s) before its planned close; ' +
        'pod-seconds = the old version\'s pods integrated from the release until its last pod was gone',
      versions,
      replicas,
      colors,
      streams: plan,
      shortConnections: { ...probes, kinds: 'HTTP GET :8080 (X-Rainbow-Color) and TCP :8081 (first line), alternately' },
      strategies: outcomes,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (anyFailed || keepLogs) say(`  logs and records kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The summary table `npm run bench -- peers` prints at the end. */
export function summaryLines(r: PeersResult): string[] {
  const rows = [['strategy', 'streams cut', 'short conns failed', 'first new', 'all new', 'old pod-s', 'old gone', 'gone after last stream']];
  for (const o of r.strategies) {
    if (!o.ran) {
      rows.push([o.name, o.couldNotRun ? `could not run: ${o.couldNotRun}` : `failed: ${(o.failed ?? '').slice(0, 200)}`]);
      continue;
    }
    rows.push([
      o.name,
      `${o.streams.cut}/${o.streams.total}`,
      `${o.shortConnections.failed}/${o.shortConnections.total}`,
      opt(o.shortConnections.firstNewS),
      opt(o.shortConnections.allNewS),
      String(o.oldVersion.podSeconds),
      opt(o.oldVersion.goneS),
      opt(o.oldVersion.removedAfterLastStreamS),
    ]);
  }
  const widths = rows[0]!.map((_, k) => Math.max(...rows.filter((x) => x.length > 2).map((x) => (x[k] ?? '').length)));
  return rows.map((x) => (x.length === 2 ? `${x[0]!.padEnd(widths[0]!)}  ${x[1]}` : x.map((v, k) => v.padEnd(widths[k]!)).join('  ')).trimEnd());
}
