// The controller's Prometheus metrics, on a registry of its own, and the small HTTP server that
// serves them with /healthz (liveness: the process answers) and /readyz (informers synced).
import http from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { listen } from '../runtime/listen.js';
import { opsHandler } from '../runtime/ops-server.js';
import { capConnections, serverOptions, type DroppedConnections, type ServerLimits } from '../runtime/server-limits.js';
import { COLOR_STATES, type ColorState } from '../domain/color-states.js';
import type { DrainForecast } from '../domain/drain-forecast.js';

export interface ControllerMetrics {
  registry: Registry;
  /** rainbow_color_connections{namespace, app, color}: established connections at the last probe. */
  connections: Gauge<'namespace' | 'app' | 'color'>;
  /** rainbow_color_drain_eta_seconds{namespace, app, color, bound}: seconds from the last drain round to each end of a draining color's forecast. */
  drainEta: Gauge<'namespace' | 'app' | 'color' | 'bound'>;
  /** rainbow_color_drain_deadline_seconds{namespace, app, color}: unix time of drain-started + max-drain of a previous color that is not kept. */
  drainDeadline: Gauge<'namespace' | 'app' | 'color'>;
  /** rainbow_colors{namespace, app, state}: colors of an app by state. */
  colors: Gauge<'namespace' | 'app' | 'state'>;
  /** rainbow_promotions_total */
  promotions: Counter;
  /** rainbow_deletions_total{reason}: drained or max-drain. */
  deletions: Counter<'reason'>;
  /** rainbow_shrinks_total: draining colors scaled down to the pods that hold connections. */
  shrinks: Counter;
  /** rainbow_shrink_removed_pods_total: pods those scale-downs removed (replicas before − after). */
  shrinkRemovedPods: Counter;
  /** rainbow_restores_total: shrunk colors given their replicas back (serving, pending or kept again). */
  restores: Counter;
  /** rainbow_reconcile_errors_total: failed reads or writes (a refused delete included). */
  reconcileErrors: Counter;
  /** rainbow_controller_leader: 1 while this replica acts. */
  leader: Gauge;
}

export function createControllerMetrics(opts: { processMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'rainbow_' });
  const registers = [registry];
  return {
    registry,
    connections: new Gauge({
      name: 'rainbow_color_connections',
      help: 'Established connections of a color at the last probe (absent while unknown).',
      labelNames: ['namespace', 'app', 'color'] as const,
      registers,
    }),
    drainEta: new Gauge({
      name: 'rainbow_color_drain_eta_seconds',
      help: 'Seconds until a draining color is forecast to reach 0 connections, at its earliest and latest bound (absent while unknown or unbounded).',
      labelNames: ['namespace', 'app', 'color', 'bound'] as const,
      registers,
    }),
    drainDeadline: new Gauge({
      name: 'rainbow_color_drain_deadline_seconds',
      help: 'Unix time of a color\'s max-drain deadline (drain-started + max-drain), when the controller deletes it whatever it holds; only previous colors that are not kept.',
      labelNames: ['namespace', 'app', 'color'] as const,
      registers,
    }),
    colors: new Gauge({
      name: 'rainbow_colors',
      help: `Colors of an app by state (${COLOR_STATES.join(', ')}).`,
      labelNames: ['namespace', 'app', 'state'] as const,
      registers,
    }),
    promotions: new Counter({
      name: 'rainbow_promotions_total',
      help: 'Services switched to their pending color once it became Available.',
      registers,
    }),
    deletions: new Counter({
      name: 'rainbow_deletions_total',
      help: 'Color Deployments deleted by the controller, by reason (drained, max-drain).',
      labelNames: ['reason'] as const,
      registers,
    }),
    shrinks: new Counter({
      name: 'rainbow_shrinks_total',
      help: 'Draining colors scaled down to the pods that still hold connections.',
      registers,
    }),
    shrinkRemovedPods: new Counter({
      name: 'rainbow_shrink_removed_pods_total',
      help: 'Pods removed by shrinking draining colors (replicas before minus after).',
      registers,
    }),
    restores: new Counter({
      name: 'rainbow_restores_total',
      help: 'Shrunk colors scaled back to their replicas before the shrink (serving, pending or kept again).',
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'rainbow_reconcile_errors_total',
      help: 'Reconcile steps that failed (API errors, deletes refused by the guard); retried later.',
      registers,
    }),
    leader: new Gauge({ name: 'rainbow_controller_leader', help: '1 while this controller replica holds the lease and acts.', registers }),
  };
}

/** Publish an app's colors by state; every state gets a sample so a state going to 0 shows. */
export function recordColors(m: ControllerMetrics, namespace: string, app: string, states: readonly ColorState[]): void {
  for (const state of COLOR_STATES) m.colors.set({ namespace, app, state }, states.filter((s) => s === state).length);
}

/** Publish each color's max-drain deadline; a color without one (serving, kept, unstamped) loses its sample. */
export function recordDrainDeadlines(m: ControllerMetrics, namespace: string, app: string, colors: ReadonlyArray<{ color: string; drainDeadline?: Date }>): void {
  for (const { color, drainDeadline } of colors) {
    if (drainDeadline) m.drainDeadline.set({ namespace, app, color }, drainDeadline.getTime() / 1000);
    else m.drainDeadline.remove({ namespace, app, color });
  }
}

const ETA_BOUNDS = ['earliest', 'latest'] as const;

/** Publish a draining color's forecast; a bound it does not have loses its sample. */
export function recordDrainForecast(m: ControllerMetrics, namespace: string, app: string, color: string, f: DrainForecast, now: Date): void {
  for (const bound of ETA_BOUNDS) {
    const at = f.kind === 'estimate' ? f[bound] : undefined;
    if (at) m.drainEta.set({ namespace, app, color, bound }, (at.getTime() - now.getTime()) / 1000);
    else m.drainEta.remove({ namespace, app, color, bound });
  }
}

/** Drop a color's forecast samples (it serves again, is kept, drained or gone). */
export function forgetDrainForecast(m: ControllerMetrics, namespace: string, app: string, color: string): void {
  for (const bound of ETA_BOUNDS) m.drainEta.remove({ namespace, app, color, bound });
}

/** Drop every series of an app that is gone (its colors' connections and forecasts included). */
export function forgetApp(m: ControllerMetrics, namespace: string, app: string, colors: readonly string[]): void {
  for (const state of COLOR_STATES) m.colors.remove({ namespace, app, state });
  for (const color of colors) {
    m.connections.remove({ namespace, app, color });
    m.drainDeadline.remove({ namespace, app, color });
    forgetDrainForecast(m, namespace, app, color);
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Prometheus and the kubelet's probes: a few short requests at a time. */
export const METRICS_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 64,
  reason: 'scrapers and probes need a few (controller /metrics, /healthz, /readyz)',
};

export async function startMetricsServer(opts: {
  registry: Registry;
  port: number;
  bind?: string;
  ready: () => boolean;
  /** Told about connections dropped at accept (at most one call per 10 s). */
  onDropped?: (d: DroppedConnections) => void;
  limits?: ServerLimits;
}): Promise<MetricsServer> {
  const limits = opts.limits ?? METRICS_SERVER_LIMITS;
  const server = http.createServer(
    serverOptions(limits),
    opsHandler({ registry: opts.registry, ready: opts.ready, notReady: 'informers not synced yet', notFound: () => 'not found: try /metrics, /healthz or /readyz' }),
  );
  capConnections(server, limits, opts.onDropped ?? (() => undefined));
  const listening = await listen(server, { port: opts.port, bind: opts.bind, name: 'controller', flag: 'metrics-port' });
  // Scrapes and probes are short; nothing in flight is worth waiting for.
  return { url: listening.url, close: () => listening.close(0) };
}
