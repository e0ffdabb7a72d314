// `npm run soak`: one app on the local cluster through many releases, under load and chaos.
//
// rainbow-system is installed in the cluster with real helm, as the demo does (two webhook pods
// behind their Service, two leader-elected controller pods, scoped to the soak's namespace;
// controller --interval 2s); the app is chart/rainbow-app (2 replicas, drain-grace 5 s,
// keepColors 0), released N times over M minutes with `helm upgrade` to a new color each time.
// A client process inside the cluster's network namespace (soak-clients.ts) opens long-lived
// streams to the Service's ClusterIP at random moments with long-tailed lifetimes and sends a
// steady rate of short HTTP requests through it; a sampler reads the Service and the app's
// Deployments every 500 ms; a chaos loop kills, at seeded random moments, a webhook pod, the
// controller leader, a reporter sidecar (SIGKILL of the container's process group: a crash, which
// the node restarts in place — harsher than `kubectl delete pod`, whose SIGTERM lets the webhook
// finish its reviews and the controller release its Lease), restarts kube-apiserver (SIGTERM, down
// 1–5 s) and the node simulator (SIGKILL, down 1–5 s: kubelet's restart, the pods keep running and
// the new simulator adopts them). kube-apiserver and the node simulator are the cluster's: the
// e2e test leaves them out (SCOPED_FAULTS). Every loop is bounded in count and time. At the end
// the checks of checks.ts run over what was recorded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, CoreV1Event, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { apiClient } from '../../webhook/src/kube/client.js';
import { isDeploymentAvailable } from '../../webhook/src/domain/availability.js';
import { execArgs, restartDaemon, up } from '../cluster/control-plane.js';
import { clusterGet } from '../cluster/network/portal.js';
import { readPodProcesses } from '../cluster/node-simulator/pod-processes.js';
import { vethName } from '../cluster/node-simulator/pod-sandbox.js';
import { kubeconfigPath, logDir, repoRoot } from '../cluster/paths.js';
import { eventually } from '../cluster/poll.js';
import { isRunning, runCommand } from '../cluster/processes.js';
import { runTool } from '../cluster/run-tool.js';
import { caInjected } from '../cluster/webhook-registration.js';
import { percentiles } from '../bench/common.js';
import { DEFAULT_LIFETIME, FAULT_KINDS, defaultFaultCount, makePlan, summarisePlan, type FaultKind, type Plan, type PlannedFault } from './plan.js';
import { runChecks, type Check, type ColorRecord, type ControllerEvent, type Leftovers, type SelectorSample, type SoakRecord } from './checks.js';
import type { FaultRecord } from './windows.js';
import type { ClientsOutput, ClientsPlan } from './soak-clients.js';

export interface SoakOptions {
  releases: number;
  minutes: number;
  streams: number;
  seed: number;
  /** Short HTTP requests per second through the Service. */
  httpRate: number;
  faults: readonly FaultKind[];
  faultCount?: number;
  drainGraceS: number;
  intervalS: number;
  /** Added to a fault window after the part is back. */
  windowSlackS: number;
  /** Added to drain-grace + one interval for a drained color's deletion. */
  deleteSlackS: number;
  say: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  releases: 30,
  minutes: 20,
  streams: 200,
  seed: 20261218,
  httpRate: 8,
  faults: FAULT_KINDS,
  drainGraceS: 5,
  intervalS: 2,
  windowSlackS: 5,
  deleteSlackS: 8,
  say: (line) => process.stdout.write(`${line}\n`),
};

export interface SoakResult {
  ok: boolean;
  options: Omit<SoakOptions, 'say'>;
  plan: ReturnType<typeof summarisePlan>;
  namespace: string;
  checks: Check[];
  releases: Array<{ n: number; color: string; helmSeconds: number; attempts: number; held: boolean }>;
  faults: FaultRecord[];
  streams: { planned: number; opened: number; closedByClient: number; cut: number; neverOpened: number; linesReceived: number; colorsPerStream: number[] };
  requests: { sent: number; ok: number; failed: number; byColor: Record<string, number> };
  colors: ColorRecord[];
  durationSeconds: number;
  /** The full record (every stream's lines, every request failure): too big for bench-results. */
  recordFile: string;
}

const APP = 'soak';
const CONTROLLER_LEASE = 'rainbow-controller';

/** Runs one thing at a time: `helm upgrade` never overlaps an API server restart (a release cut in half by it is helm's problem, not rainbow's). */
class Exclusive {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const next = this.tail.then(f, f);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function must(r: { code: number; stdout: string; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
}

const clock = (t = Date.now()) => new Date(t).toISOString().slice(11, 19);

/** Waits for `p` or `ms`, whichever comes first, and leaves no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}

export async function runSoak(opts: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...opts };
  const plan: Plan = makePlan({
    seed: o.seed,
    releases: o.releases,
    minutes: o.minutes,
    streams: o.streams,
    lifetime: DEFAULT_LIFETIME,
    faults: o.faults,
    faultCount: o.faultCount ?? defaultFaultCount(o.minutes, o.faults.length),
    minFaultGapS: 20,
  });
  const started = Date.now();
  const say = (line: string) => o.say(`[${clock()} +${Math.round((Date.now() - started) / 1000)}s] ${line}`);
  const summary = summarisePlan(plan);
  say(`plan (seed ${o.seed}): ${o.releases} releases over ${o.minutes} min, ${o.streams} streams (lifetimes p50 ${summary.lifetimeS.p50} s, p90 ${summary.lifetimeS.p90} s, max ${summary.lifetimeS.max} s), ${o.httpRate} requests/s, faults ${JSON.stringify(summary.faults)}`);

  await up();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = apiClient(kc, CoreV1Api, 8000);
  const apps = apiClient(kc, AppsV1Api, 8000);
  const coord = apiClient(kc, CoordinationV1Api, 8000);
  const admission = apiClient(kc, AdmissionregistrationV1Api, 8000);

  const id = Date.now().toString(36);
  const ns = `soak-${id}`;
  const sysNs = `${ns}-system`;
  const release = `rainbow-${ns}`;
  const dir = path.join(logDir, 'soak', ns);
  mkdirSync(dir, { recursive: true });
  const colors: ColorRecord[] = [{ color: plan.firstColor, release: 0 }, ...plan.releases.map((r) => ({ color: r.color, release: r.n }))];
  const colorOf = new Map(colors.map((c) => [c.color, c]));
  const faults: FaultRecord[] = [];
  const releases: SoakResult['releases'] = [];
  const switches: SelectorSample[] = [];
  const notAvailable: SelectorSample[] = [];
  const samples = { taken: 0, failed: 0 };
  const podsSeen = new Map<string, { name: string; namespace: string; ip?: string }>();
  let clusterIP = '';
  let clients: ChildProcess | undefined;
  let stopping = false;
  let cleaned = false;
  // Every wait of the loops ends at once when the run stops (done or failed): nothing keeps the process up.
  const stop = new AbortController();
  const nap = (ms: number) => sleep(Math.max(0, ms), undefined, { signal: stop.signal }).catch(() => undefined);
  const exclusive = new Exclusive();
  const background: Promise<unknown>[] = [];

  const helm = (args: string[]) => runTool('helm', args, { timeoutMs: 240_000 });
  const appArgs = (color: string, extra: string[] = []) => [
    'upgrade', '--install', APP, path.join(repoRoot, 'chart', 'rainbow-app'), '-n', ns,
    '--set', `color=${color}`, '--set', 'replicas=2', '--set', 'readinessProbe.periodSeconds=1',
    '--set', `drain.grace=${o.drainGraceS}s`, '--set', 'drain.keepColors=0', '--set', 'terminationGracePeriodSeconds=10',
    ...extra,
  ];

  try {
    // ---- rainbow-system, in the cluster, scoped to this namespace ----
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'rainbow.dev/soak': 'true' } } } });
    say(`namespace ${ns}; installing rainbow-system (release ${release} in ${sysNs}): 2 webhook pods, 2 controller pods (--interval ${o.intervalS}s)`);
    must(await helm([
      'upgrade', '--install', release, path.join(repoRoot, 'chart', 'rainbow-system'), '-n', sysNs, '--create-namespace', '--wait', '--timeout', '180s',
      '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': ns } })}`,
      '--set-json', `controller.extraArgs=${JSON.stringify([`--namespace=${ns}`, `--interval=${o.intervalS}s`])}`,
      '--set', 'controller.replicas=2',
    ]), 'helm install of rainbow-system');
    await eventually('the webhook to inject its CA', () => caInjected(admission, release), 90_000, 250);
    await eventually('a controller holding the Lease', async () => (await coord.readNamespacedLease({ namespace: sysNs, name: CONTROLLER_LEASE })).spec?.holderIdentity, 90_000, 500);

    // ---- release 0 ----
    say(`release 0: helm upgrade --install ${APP} chart/rainbow-app --set color=${plan.firstColor} (--wait)`);
    must(await helm([...appArgs(plan.firstColor), '--wait', '--timeout', '180s']), `helm install of color ${plan.firstColor}`);
    colorOf.get(plan.firstColor)!.helmAt = Date.now();
    releases.push({ n: 0, color: plan.firstColor, helmSeconds: 0, attempts: 1, held: false });
    const svc0 = await core.readNamespacedService({ namespace: ns, name: APP });
    clusterIP = svc0.spec!.clusterIP!;
    await eventually(`${APP}-${plan.firstColor} Available`, async () => isDeploymentAvailable(await apps.readNamespacedDeployment({ namespace: ns, name: `${APP}-${plan.firstColor}` })), 120_000, 250);

    // ---- the sampler: the Service, then the Deployments, every 500 ms ----
    let lastSel: string | undefined;
    let lastPodScan = 0;
    const sampler = (async () => {
      while (!stopping) {
        const at = Date.now();
        try {
          const svc = await core.readNamespacedService({ namespace: ns, name: APP });
          const deps = (await apps.listNamespacedDeployment({ namespace: ns, labelSelector: `rainbow.dev/app=${APP}` })).items;
          samples.taken += 1;
          const present = new Set<string>();
          for (const d of deps) {
            const color = d.metadata?.labels?.['rainbow.dev/color'] ?? '';
            const c = colorOf.get(color);
            if (!c) continue;
            if (d.metadata?.deletionTimestamp) {
              c.goneAt ??= at;
              continue;
            }
            present.add(color);
            c.firstSeenAt ??= at;
            if (c.availableAt === undefined && isDeploymentAvailable(d)) c.availableAt = at;
            const ds = d.metadata?.annotations?.['rainbow.dev/drain-started'];
            if (ds && c.drainStarted === undefined) c.drainStarted = Date.parse(ds);
          }
          for (const c of colors) if (c.firstSeenAt !== undefined && c.goneAt === undefined && !present.has(c.color)) c.goneAt = at;
          const sel = svc.spec?.selector?.['rainbow.dev/color'] ?? '';
          const dep = deps.find((d) => d.metadata?.labels?.['rainbow.dev/color'] === sel && !d.metadata?.deletionTimestamp);
          const available = !!dep && isDeploymentAvailable(dep);
          const sample: SelectorSample = { at, color: sel, switched: sel !== lastSel, available };
          if (sel !== lastSel && lastSel !== undefined) {
            switches.push(sample);
            say(`Service → ${sel}${available ? '' : ' (NOT Available)'}`);
          }
          if (!available) notAvailable.push(sample);
          const c = colorOf.get(sel);
          if (c) {
            c.servingFrom ??= at;
            c.servingUntil = at;
          }
          lastSel = sel;
          if (at - lastPodScan > 5000) {
            lastPodScan = at;
            for (const n of [ns, sysNs]) {
              for (const p of (await core.listNamespacedPod({ namespace: n })).items) {
                podsSeen.set(p.metadata!.uid!, { name: p.metadata!.name!, namespace: n, ip: p.status?.podIP });
              }
            }
          }
        } catch {
          samples.failed += 1;
        }
        await nap(500 - (Date.now() - at));
      }
    })();
    background.push(sampler);

    // ---- the clients ----
    const t0 = Date.now() + 3000;
    const clientsPlan: ClientsPlan = {
      host: clusterIP,
      httpPort: 8080,
      tcpPort: 8081,
      t0,
      streams: plan.streams,
      http: { ratePerS: o.httpRate, untilMs: plan.durationMs, timeoutMs: 3000 },
      openTimeoutMs: 30_000,
      stopAfterMs: plan.durationMs + 120_000,
      out: path.join(dir, 'clients.json'),
    };
    const planFile = path.join(dir, 'clients-plan.json');
    writeFileSync(planFile, JSON.stringify(clientsPlan));
    const clientsJs = path.join(repoRoot, 'dist', 'scripts', 'soak', 'soak-clients.js');
    const [cmd, ...args] = execArgs([process.execPath, clientsJs, planFile]);
    clients = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const clientsDone = new Promise<void>((resolve) => clients!.once('exit', () => resolve()));
    let lastTick = '';
    createInterface({ input: clients.stdout! }).on('line', (l) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(l) as Record<string, unknown>;
      } catch {
        return;
      }
      if (e.event === 'tick') {
        const h = e.http as { sent: number; failed: number };
        const line = `streams: ${e.open} open, ${e.closed} closed by their client, ${e.cut} cut, ${e.neverOpened} never opened, ${e.waiting} to come; requests ${h.sent} sent, ${h.failed} failed`;
        if (line !== lastTick) say(line);
        lastTick = line;
      } else if (e.event === 'cut') say(`STREAM CUT: #${e.i} on ${e.color}: ${e.why} after ${Math.round(Number(e.openForMs) / 1000)} s of ${Math.round(Number(e.plannedMs) / 1000)} s`);
      else if (e.event === 'never-opened') say(`stream #${e.i} could not open: ${e.why}`);
      else if (e.event === 'http-fail') say(`request failed at ${clock(Number(e.at))}: ${e.error}`);
    });
    say(`clients started inside the cluster's namespace (pid ${clients.pid}): ${plan.streams.length} streams and ${o.httpRate} requests/s to ClusterIP ${clusterIP}`);

    // ---- releases ----
    const releaseLoop = (async () => {
      for (const r of plan.releases) {
        await nap(t0 + r.atMs - Date.now());
        if (stopping) return;
        const t = Date.now();
        let attempts = 0;
        let last = '';
        const extra = ['--set', 'readinessProbe.initialDelaySeconds=3'];
        for (;;) {
          attempts += 1;
          const res = await exclusive.run(() => helm(appArgs(r.color, extra)));
          if (res.code === 0) break;
          last = (res.stderr || res.stdout).trim().split('\n').slice(-1)[0] ?? '';
          if (attempts >= 20 || stopping) throw new Error(`release ${r.n} (${r.color}): helm upgrade failed ${attempts} times; last: ${last}`);
          say(`release ${r.n}: helm upgrade failed (${last}); again in 3 s`);
          await nap(3000);
        }
        colorOf.get(r.color)!.helmAt = Date.now();
        const svc = await core.readNamespacedService({ namespace: ns, name: APP }).catch(() => undefined);
        const pending = svc?.metadata?.annotations?.['rainbow.dev/pending-color'];
        releases.push({ n: r.n, color: r.color, helmSeconds: Math.round((Date.now() - t) / 100) / 10, attempts, held: pending === r.color });
        say(`release ${r.n}/${plan.releases.length}: color ${r.color} (helm ${((Date.now() - t) / 1000).toFixed(1)} s${attempts > 1 ? `, ${attempts} attempts` : ''}); Service selects ${svc?.spec?.selector?.['rainbow.dev/color'] ?? '?'}${pending ? `, pending ${pending}` : ''}`);
      }
    })();

    // ---- chaos ----
    const chaosLoop = (async () => {
      for (const f of plan.faults) {
        await nap(t0 + f.atMs - Date.now());
        if (stopping) return;
        const rec = await strike(f);
        faults.push(rec);
        say(`fault ${f.i + 1}/${plan.faults.length} ${f.kind}: ${rec.struck ? `${rec.target}: ${rec.how}; ${rec.backAt ? `back after ${((rec.backAt - rec.startedAt) / 1000).toFixed(1)} s` : `NOT back: ${rec.error}`}` : `did not strike: ${rec.error}`}`);
      }
    })();

    async function strike(f: PlannedFault): Promise<FaultRecord> {
      const rec: FaultRecord = { i: f.i, kind: f.kind, target: '', how: '', startedAt: Date.now(), struck: false };
      try {
        switch (f.kind) {
          case 'webhook-pod':
            return await killContainer(rec, f, sysNs, 'app.kubernetes.io/component=webhook', 'webhook', async (pod) => {
              const d = await apps.listNamespacedDeployment({ namespace: sysNs, labelSelector: 'app.kubernetes.io/component=webhook' });
              return d.items.every((x) => (x.status?.readyReplicas ?? 0) === x.spec?.replicas) ? pod : undefined;
            });
          case 'reporter':
            return await killContainer(rec, f, ns, `rainbow.dev/app=${APP}`, 'reporter', async (pod) => {
              const r = await clusterGet(`http://${pod.status!.podIP}:9471/connections`, 2000);
              return r.status === 200 ? pod : undefined;
            });
          case 'controller-leader': {
            const lease = await coord.readNamespacedLease({ namespace: sysNs, name: CONTROLLER_LEASE });
            const holder = lease.spec?.holderIdentity;
            if (!holder) throw new Error('the controller Lease has no holder');
            const pod = await core.readNamespacedPod({ namespace: sysNs, name: holder });
            return await killContainer(rec, f, sysNs, '', 'controller', async () => {
              const l = await coord.readNamespacedLease({ namespace: sysNs, name: CONTROLLER_LEASE });
              const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime as unknown as string).getTime() : 0;
              return renewed > rec.startedAt + 500 ? l : undefined;
            }, pod);
          }
          case 'kube-apiserver':
            return await exclusive.run(async () => {
              rec.target = 'kube-apiserver';
              rec.startedAt = Date.now();
              rec.struck = true;
              await restartDaemon('kube-apiserver', f.downMs);
              rec.how = `SIGTERM, down ${(f.downMs / 1000).toFixed(1)} s, started again`;
              rec.backAt = Date.now();
              return rec;
            });
          case 'node-simulator': {
            rec.target = 'node-simulator';
            rec.startedAt = Date.now();
            rec.struck = true;
            // SIGKILL, as kubelet crashes or is restarted: the pods keep running and the new
            // simulator adopts them (SIGTERM would stop every pod: a node shutdown).
            const fresh = await restartDaemon('node-simulator', f.downMs, 'SIGKILL');
            rec.how = `SIGKILL, down ${(f.downMs / 1000).toFixed(1)} s, started again (pid ${fresh.pid})`;
            rec.backAt = await eventually('the node simulator back: ready, the node heartbeating and every pod of the soak Ready', async () => {
              const ready = readFileSync(fresh.log, 'utf8').split('\n').some((l) => l.endsWith('node simulator ready') && Date.parse(l.slice(0, 24)) >= rec.startedAt);
              if (!ready) return undefined;
              const node = await core.readNode({ name: 'rainbow-node' });
              const hb = node.status?.conditions?.find((c) => c.type === 'Ready');
              const beat = hb?.lastHeartbeatTime ? new Date(hb.lastHeartbeatTime as unknown as string).getTime() : 0;
              if (hb?.status !== 'True' || beat < rec.startedAt) return undefined;
              for (const n of [ns, sysNs]) {
                const pods = (await core.listNamespacedPod({ namespace: n })).items.filter((p) => !p.metadata?.deletionTimestamp);
                if (!pods.every(podReady)) return undefined;
              }
              return Date.now();
            }, 180_000, 500);
            return rec;
          }
        }
      } catch (err) {
        rec.error = (err as Error).message.split('\n')[0];
        return rec;
      }
    }

    /** SIGKILL of one container's process (group), as a crash: the node restarts it in place. Back when `back` says so and the pod is Ready with a higher restart count. */
    async function killContainer(rec: FaultRecord, f: PlannedFault, namespace: string, selector: string, container: string, back: (pod: V1Pod) => Promise<unknown>, only?: V1Pod): Promise<FaultRecord> {
      const candidates = only
        ? [only]
        : (await core.listNamespacedPod({ namespace, labelSelector: selector })).items
            .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && podReady(p))
            .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
      if (candidates.length === 0) throw new Error(`no Ready pod for ${selector} in ${namespace}`);
      const pod = candidates[Math.floor(f.pick * candidates.length)]!;
      const name = pod.metadata!.name!;
      rec.target = `${namespace}/${name} container ${container}`;
      const restarts = (p: V1Pod) => [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((c) => c.name === container)?.restartCount ?? 0;
      const before = restarts(pod);
      const proc = readPodProcesses().find((p) => p.name === `${namespace}/${name}/${container}` && isRunning(p));
      if (!proc) throw new Error(`no running process of ${rec.target} on record`);
      rec.startedAt = Date.now();
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        process.kill(proc.pid, 'SIGKILL');
      }
      rec.struck = true;
      rec.how = `SIGKILL pid ${proc.pid} (its process group)`;
      try {
        let gone = false;
        await eventually(`${rec.target} back`, async () => {
          const p = await core.readNamespacedPod({ namespace, name }).catch((err: { code?: number }) => {
            if (err.code === 404) return undefined;
            throw err;
          });
          // Its color drained and went meanwhile: the part is not coming back, and its fault is over.
          if (!p || p.metadata?.deletionTimestamp) return (gone = true);
          if (restarts(p) <= before || !podReady(p)) return undefined;
          return back(p);
        }, 120_000, 250);
        rec.backAt = Date.now();
        if (gone) rec.how += '; its pod was deleted before it was back (its color drained)';
      } catch (err) {
        rec.error = (err as Error).message.split('\n')[0];
      }
      return rec;
    }

    await Promise.all([releaseLoop, chaosLoop]);
    say('releases and faults done; waiting for the last streams to close');
    const clientsTimeout = t0 + clientsPlan.stopAfterMs + 15_000 - Date.now();
    await within(clientsDone, clientsTimeout);
    if (clients.exitCode === null) throw new Error('the clients did not stop by themselves');
    if (!existsSync(clientsPlan.out)) throw new Error(`the clients wrote no record (${clientsPlan.out})`);
    const out = JSON.parse(readFileSync(clientsPlan.out, 'utf8')) as ClientsOutput;

    // ---- the last drains: every color but the serving one deleted, or the allowance is over ----
    const allowance = (o.drainGraceS + o.intervalS + o.deleteSlackS) * 1000;
    const lastClose = Math.max(...out.streams.map((x) => x.endedAt ?? 0), Date.now());
    say(`last stream closed; waiting up to ${((lastClose + allowance + 30_000 - Date.now()) / 1000).toFixed(0)} s for the drained colors to go`);
    await eventually('every color but the serving one deleted', async () => {
      const live = colors.filter((c) => c.firstSeenAt !== undefined && c.goneAt === undefined && c.color !== lastSel);
      return live.length === 0 ? true : undefined;
    }, Math.max(1000, lastClose + allowance + 30_000 - Date.now()), 500).catch(() => undefined);
    stopping = true;
    stop.abort();
    await Promise.allSettled(background);
    const endedAt = Date.now();

    const events: ControllerEvent[] = ((await core.listNamespacedEvent({ namespace: ns })).items as CoreV1Event[])
      .filter((e) => (e.reportingComponent || e.source?.component) === 'rainbow-controller')
      .map((e) => ({
        reason: e.reason ?? '',
        object: e.involvedObject.name ?? '',
        message: e.message ?? '',
        at: new Date((e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) as unknown as string).getTime(),
      }))
      .sort((a, b) => a.at - b.at);
    writeFileSync(path.join(dir, 'events.json'), JSON.stringify(events, null, 1));

    // ---- cleanup, then what is left ----
    say(`cleaning up: helm uninstall, namespaces ${ns} and ${sysNs}`);
    await cleanup();
    const leftovers = await findLeftovers();

    const record: SoakRecord = {
      app: APP,
      startedAt: t0,
      endedAt,
      drainGraceMs: o.drainGraceS * 1000,
      intervalMs: o.intervalS * 1000,
      streams: out.streams,
      requests: {
        sent: out.requests.sent,
        ok: out.requests.ok,
        byColor: out.requests.byColor,
        failures: out.requests.failures,
        latencyMs: out.requests.latenciesMs.length ? (({ p50, p99, max }) => ({ p50, p99, max }))(percentiles(out.requests.latenciesMs, 0)) : { p50: 0, p99: 0, max: 0 },
      },
      faults,
      colors,
      finalColor: lastSel,
      notAvailableSamples: notAvailable,
      switches,
      samples,
      events,
      leftovers,
    };
    const recordFile = path.join(dir, 'record.json');
    writeFileSync(recordFile, JSON.stringify(record));
    const checks = runChecks(record, { windowSlackMs: o.windowSlackS * 1000, deleteSlackMs: o.deleteSlackS * 1000 });
    const opened = out.streams.filter((x) => x.openedAt !== undefined);
    const { say: _say, ...options } = o;
    return {
      ok: checks.every((c) => c.ok),
      options,
      plan: summary,
      namespace: ns,
      checks,
      releases,
      faults,
      streams: {
        planned: plan.streams.length,
        opened: opened.length,
        closedByClient: out.streams.filter((x) => x.endedBy === 'client').length,
        cut: out.streams.filter((x) => x.endedBy === 'server').length,
        neverOpened: out.streams.filter((x) => x.endedBy === 'never-opened').length,
        linesReceived: out.streams.reduce((n, x) => n + x.lines.length, 0),
        colorsPerStream: [...new Set(opened.map((x) => x.colors.length))],
      },
      requests: { sent: out.requests.sent, ok: out.requests.ok, failed: out.requests.failures.length, byColor: out.requests.byColor },
      colors,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      recordFile: recordFile.startsWith(repoRoot) ? path.relative(repoRoot, recordFile) : recordFile,
    };
  } finally {
    stopping = true;
    stop.abort();
    if (clients && clients.exitCode === null) {
      clients.stdin?.end();
      await within(new Promise((r) => clients!.once('exit', r)), 5000);
      if (clients.exitCode === null) clients.kill('SIGKILL');
    }
    await Promise.allSettled(background);
    await cleanup().catch(() => undefined);
  }

  async function cleanup(): Promise<void> {
    if (cleaned) return;
    cleaned = true;
    // helm uninstall keeps the colors (resource-policy keep); deleting the namespace removes them
    // (the guard lets a terminating namespace go).
    await helm(['uninstall', APP, '-n', ns, '--wait', '--timeout', '120s']);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await waitGone(ns);
    await helm(['uninstall', release, '-n', sysNs, '--wait', '--timeout', '120s']);
    await core.deleteNamespace({ name: sysNs }).catch(() => undefined);
    await waitGone(sysNs);
  }

  async function waitGone(name: string): Promise<void> {
    await eventually(`namespace ${name} gone`, async () => (await core.readNamespace({ name }).then(() => undefined, (e: { code?: number }) => (e.code === 404 ? true : undefined))), 180_000, 500).catch(
      (err: Error) => say(`cleanup: ${err.message}`),
    );
  }

  /** Processes, sockets and network namespaces of this run still there after cleanup. */
  async function findLeftovers(): Promise<Leftovers> {
    const processes = readPodProcesses()
      .filter((p) => (p.name.startsWith(`${ns}/`) || p.name.startsWith(`${sysNs}/`)) && isRunning(p))
      .map((p) => `${p.name} (pid ${p.pid})`);
    if (clients && clients.exitCode === null && clients.signalCode === null) processes.push(`soak clients (pid ${clients.pid})`);
    // A pod's network namespace goes with its sandbox (a process above) and takes its veth along.
    const links = await runCommand(execArgs(['ip', '-o', 'link', 'show'])).catch(() => '');
    const networkNamespaces = [...podsSeen.entries()].filter(([uid]) => links.includes(`${vethName(uid)}@`)).map(([uid, p]) => `${p.namespace}/${p.name}: veth ${vethName(uid)} (pod ${uid})`);
    // Sockets of the cluster's namespace still talking to this run's ClusterIP or pod addresses
    // (TIME-WAIT left out: the kernel's, owned by no process, gone within 60 s).
    const inUse = new Set((await core.listPodForAllNamespaces().catch(() => ({ items: [] as V1Pod[] }))).items.map((p) => p.status?.podIP).filter(Boolean));
    const ours = new Set([clusterIP, ...[...podsSeen.values()].map((p) => p.ip).filter((ip): ip is string => !!ip && !inUse.has(ip))]);
    const ss = await runCommand(execArgs(['ss', '-tanH'])).catch(() => '');
    const sockets = ss
      .split('\n')
      .filter((l) => l.trim() && !/^TIME-WAIT/.test(l.trim()))
      .filter((l) => {
        const peers = l.trim().split(/\s+/).slice(3, 5).map((a) => a.replace(/:\d+$/, ''));
        return peers.some((a) => ours.has(a));
      });
    return { processes, sockets, networkNamespaces };
  }
}

function podReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The summary lines: the checks, one line each. */
export function summaryLines(r: SoakResult): string[] {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.line}`);
    for (const d of c.details.slice(0, 15)) lines.push(`       ${d}`);
    if (c.details.length > 15) lines.push(`       … ${c.details.length - 15} more in ${r.recordFile}`);
  }
  return lines;
}
