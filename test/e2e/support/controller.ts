// The controller end to end: `rainbow controller` as processes inside the cluster namespace
// (killable, restartable, two at once), plus the observations its tests need — its JSON log, its
// metrics, the Events it records, the moment a Deployment disappears, `rainbow status` as a user
// runs it, and TCP streams to the demo app held open like real clients.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import type { CoreV1Event, V1Deployment } from '@kubernetes/client-node';
import { insideKubeconfigPath, kubeconfigPath } from '../../../scripts/cluster/paths.js';
import { rainbowCommand } from '../../../scripts/cluster/rainbow-command.js';
import { clients, eventually } from './cluster.js';
import { startRainbow, type LocalProcess } from './processes.js';
import { connectInside, getInside } from './network.js';

const run = promisify(execFile);
const { core, apps } = clients();

export interface LogLine {
  level: string | number;
  time: string;
  msg: string;
  [k: string]: unknown;
}

export interface ControllerProcess extends LocalProcess {
  identity: string;
  /** When the process was spawned (ms since the epoch). */
  startedAt: number;
  /** Every JSON line of its log so far. */
  lines(): LogLine[];
  /** Resolves with the time (ms) of the first log line whose msg is `msg`. */
  logged(msg: string, timeoutMs?: number): Promise<number>;
  /** Its /metrics URL (from the "rainbow controller starting" line). */
  metricsUrl(): Promise<string>;
  /** rainbow_controller_leader from its /metrics: 1 while it acts. */
  leaderGauge(): Promise<number>;
}

/** One controller replica scoped to `namespace`, its Lease in the same namespace, 1 s drain checks. */
export function startController(namespace: string, identity: string, extra: string[] = []): ControllerProcess {
  const startedAt = Date.now();
  const p = startRainbow(`controller-${identity}`, [
    'controller',
    `--kubeconfig=${insideKubeconfigPath}`,
    `--namespace=${namespace}`,
    '--interval=1s',
    '--leader-elect',
    `--lease-namespace=${namespace}`,
    `--identity=${identity}`,
    '--metrics-port=0',
    '--bind=127.0.0.1',
    ...extra,
  ]);
  const lines = (): LogLine[] =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  let url: string | undefined;
  const metricsUrl = async () => {
    url ??= await eventually(`controller ${identity} metrics URL in its log`, async () => {
      const l = lines().find((x) => x.msg === 'rainbow controller starting');
      return typeof l?.metrics === 'string' ? l.metrics : undefined;
    }, 20_000, 100);
    return url;
  };
  return {
    ...p,
    identity,
    startedAt,
    lines,
    logged: (msg, timeoutMs = 30_000) =>
      eventually(`controller ${identity} to log "${msg}"`, async () => {
        const l = lines().find((x) => x.msg === msg);
        return l ? Date.parse(l.time) : undefined;
      }, timeoutMs, 100),
    metricsUrl,
    async leaderGauge() {
      const text = (await getInside(`${await metricsUrl()}/metrics`, 2000)).body;
      const m = /^rainbow_controller_leader(?:\{[^}]*\})? (\d+)/m.exec(text);
      if (!m) throw new Error(`no rainbow_controller_leader in ${identity}'s metrics`);
      return Number(m[1]);
    },
  };
}

export interface RainbowEvent {
  reason: string;
  type: string;
  kind: string;
  object: string;
  /** reportingInstance, else source.host. */
  instance: string;
  /** source.host (the older field, for kubectl's SOURCE column). */
  host: string;
  component: string;
  message: string;
  /** firstTimestamp in ms (the API keeps whole seconds). */
  at: number;
}

/** The Events the controller recorded in `namespace`, oldest first. */
export async function controllerEvents(namespace: string): Promise<RainbowEvent[]> {
  const items: CoreV1Event[] = (await core.listNamespacedEvent({ namespace })).items;
  return items
    .filter((e) => (e.reportingComponent || e.source?.component) === 'rainbow-controller')
    .map((e) => ({
      reason: e.reason ?? '',
      type: e.type ?? '',
      kind: e.involvedObject.kind ?? '',
      object: e.involvedObject.name ?? '',
      instance: e.reportingInstance || e.source?.host || '',
      host: e.source?.host ?? '',
      component: e.reportingComponent || e.source?.component || '',
      message: e.message ?? '',
      at: new Date((e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) as unknown as string | Date).getTime(),
      rv: Number(e.metadata.resourceVersion ?? 0),
    }))
    // Whole seconds: within one, the order they were created in (etcd's revisions grow).
    .sort((a, b) => a.at - b.at || a.rv - b.rv)
    .map(({ rv: _rv, ...e }) => e);
}

export interface DeletionWatch {
  /** When the Deployment was first seen gone or being deleted (ms), once it was. */
  goneAt(): number | undefined;
  /** Resolves with goneAt. */
  gone(timeoutMs: number): Promise<number>;
  /** The last version read before it went. */
  lastSeen(): V1Deployment | undefined;
  stop(): void;
}

/**
 * Polls a Deployment every 100 ms from now on and records the moment it goes (404 or
 * deletionTimestamp), as the time of the answer that showed it. It must have been seen once first.
 */
export function watchDeletion(namespace: string, name: string): DeletionWatch {
  let goneAt: number | undefined;
  let last: V1Deployment | undefined;
  let stopped = false;
  let error: unknown;
  void (async () => {
    while (!stopped && goneAt === undefined) {
      try {
        const d = await apps.readNamespacedDeployment({ namespace, name });
        if (d.metadata?.deletionTimestamp && last) goneAt = Date.now();
        else if (!d.metadata?.deletionTimestamp) last = d;
      } catch (err) {
        if ((err as { code?: number }).code === 404 && last) goneAt = Date.now();
        else error = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    goneAt: () => goneAt,
    gone: (timeoutMs) => eventually(`Deployment ${name} deleted${error ? ` (last read error: ${String(error)})` : ''}`, async () => goneAt, timeoutMs, 50),
    lastSeen: () => last,
    stop: () => {
      stopped = true;
    },
  };
}

/** `rainbow status` exactly as a user runs it (table unless args say otherwise). */
export async function rainbowStatus(namespace: string, args: string[] = []): Promise<string> {
  const rainbow = rainbowCommand();
  const { stdout } = await run(rainbow.node, [...rainbow.args, 'status', '-n', namespace, `--kubeconfig=${kubeconfigPath}`, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  return stdout;
}

export interface Stream {
  socket: net.Socket;
  lines: string[];
  closed: Promise<void>;
  openedAt: number;
}

/**
 * A TCP client of the demo app's stream (:8081 on a pod, a ClusterIP, or a NodePort on the
 * cluster's host address); resolves once the first line arrived. `from: 'inside'` opens it from
 * the cluster namespace (pod IPs and ClusterIPs are reachable only there). A connection closed
 * before any line (kube-proxy not programmed yet, no Ready pod yet) is retried until `timeoutMs`.
 */
export async function openStream(host: string, port: number, timeoutMs = 15_000, from: 'host' | 'inside' = 'host'): Promise<Stream> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  while (Date.now() < deadline) {
    const socket = from === 'inside' ? connectInside(host, port) : net.connect({ host, port });
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
    socket.on('error', (err) => (why = err.message));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const first = await new Promise<'line' | 'closed' | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), Math.max(100, deadline - Date.now()));
      const onData = () => {
        if (lines.length === 0) return;
        clearTimeout(timer);
        resolve('line');
      };
      socket.on('data', onData);
      void closed.then(() => {
        clearTimeout(timer);
        resolve(lines.length > 0 ? 'line' : 'closed');
      });
    });
    if (first === 'line' && !socket.destroyed) return { socket, lines, closed, openedAt: Date.now() };
    socket.destroy();
    if (first !== 'line') why ||= first === 'closed' ? 'closed before the first line' : 'no line';
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no stream from ${host}:${port} within ${timeoutMs / 1000}s: ${why}`);
}

/**
 * openStream to a Service right after its selector moved: a stream that kube-proxy still sent to
 * another color (its rules trail the EndpointSlice by a moment) is closed and opened again, until
 * one prints `color` or `timeoutMs` is over.
 */
export async function openStreamTo(color: string, host: string, port: number, timeoutMs = 15_000): Promise<Stream> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stream = await openStream(host, port, Math.max(1000, deadline - Date.now()));
    if (stream.lines[0] === `The color is #${color}` || Date.now() >= deadline) return stream;
    stream.socket.destroy();
    await stream.closed;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Established connections of a color, summed over its pods' reporters. */
export async function connectionsOf(namespace: string, color: string): Promise<number> {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `rainbow.dev/color=${color}` })).items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP);
  let total = 0;
  for (const p of pods) {
    const r = await getInside(`http://${p.status!.podIP}:9471/connections`, 2000);
    total += (JSON.parse(r.body) as { established: number }).established;
  }
  return total;
}

export const isAvailable = (d: V1Deployment) =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
  (d.spec?.replicas ?? 1) > 0 &&
  d.status?.availableReplicas === d.spec?.replicas &&
  d.status?.updatedReplicas === d.spec?.replicas;

export async function waitAvailable(namespace: string, name: string, timeoutMs = 60_000): Promise<V1Deployment> {
  return eventually(`${name} Available`, async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name });
    return isAvailable(d) ? d : undefined;
  }, timeoutMs, 200);
}

/** rainbow.dev/drain-started of a Deployment once the controller wrote it. */
export async function drainStarted(namespace: string, name: string, timeoutMs = 15_000): Promise<string> {
  return eventually(`rainbow.dev/drain-started on ${name}`, async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name });
    return d.metadata?.annotations?.['rainbow.dev/drain-started'];
  }, timeoutMs, 100);
}

/** Waits until the wall clock reads `at` (ms). */
export async function sleepUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
