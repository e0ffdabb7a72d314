// The dashboard's sampling loop: every interval it reads the status (the same collector as
// `rainbow status`, or one a test passes in) and the rainbow Events, records each color's
// connections, and hands the new snapshot to whoever listens (the page's event streams).
import type { CoreV1Event } from '@kubernetes/client-node';
import { cssColor } from '../../domain/contract.js';
import { apiErrorMessage, statusOf } from '../../kube/client.js';
import { appKey, type StatusReport } from '../model.js';
import { eventsOfApp, type EventView } from './events.js';
import { SampleStore, WINDOWS, type AppSeries, type Sample, type SampleStoreOptions, type WindowName } from './samples.js';
import { snapshotView, type DashboardSnapshot, type ForecastFn } from './view.js';

/** One read of every app's status. */
export type Collect = () => Promise<StatusReport>;

/** The rainbow controller's Events where the apps are. */
export type ListEvents = () => Promise<readonly CoreV1Event[]>;

export interface FeedOptions {
  collect: Collect;
  listEvents?: ListEvents;
  intervalMs: number;
  /** What is shown, in words (`namespace demo`). */
  scope: string;
  forecast?: ForecastFn;
  store?: Omit<SampleStoreOptions, 'intervalMs'>;
  /** Told when reading starts failing or the message changes, and with undefined once it works again. */
  onReadError?: (message: string | undefined) => void;
  now?: () => Date;
}

/** The chart's series of every app (or one) for a window. */
export interface SeriesView {
  window: WindowName;
  /** Start of the window (ms), absent for `all`. */
  from?: number;
  to: number;
  apps: Record<string, { t: number[]; series: Array<{ color: string; css?: string; values: Array<number | null> }> }>;
}

/** A failed read of the cluster, said so that the user knows what to do. */
export function describeReadError(err: unknown, what = 'read the rainbow apps'): string {
  const status = statusOf(err);
  const message = apiErrorMessage(err);
  if (status === 401) return `cannot ${what}: the API server refused the credentials (401 ${message}); log in again or pass --kubeconfig`;
  if (status === 403) {
    return `cannot ${what}: forbidden (403 ${message}); the dashboard needs list on services, deployments, pods and events, and get on pods/proxy (or --direct), in the namespaces it shows`;
  }
  const code = (err as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (err as { code?: unknown })?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return `cannot ${what}: the API server is not reachable (${String(code)}: ${message}); check that the cluster is up and the kubeconfig's context (--kubeconfig)`;
  }
  return `cannot ${what}: ${status ? `${status} ` : ''}${message}`;
}

export class DashboardFeed {
  private readonly store: SampleStore;
  private readonly listeners = new Set<(s: DashboardSnapshot) => void>();
  private readonly now: () => Date;
  private report: StatusReport | undefined;
  private events = new Map<string, EventView[]>();
  private eventsErrors = new Map<string, string>();
  private error: string | undefined;
  private latest: DashboardSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DashboardSnapshot> | undefined;
  private stopped = false;

  constructor(private readonly opts: FeedOptions) {
    this.store = new SampleStore({ intervalMs: opts.intervalMs, ...opts.store });
    this.now = opts.now ?? (() => new Date());
    this.latest = this.build();
  }

  snapshot(): DashboardSnapshot {
    return this.latest;
  }

  /** Whether a read has succeeded yet (before that, the snapshot has no apps and may carry an error). */
  hasData(): boolean {
    return this.report !== undefined;
  }

  subscribe(listener: (s: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  series(window: WindowName, app?: string, maxPoints = 600): SeriesView {
    const to = this.report?.generatedAt.getTime() ?? this.now().getTime();
    const span = WINDOWS[window];
    const from = span === undefined ? undefined : to - span;
    const apps: SeriesView['apps'] = {};
    for (const key of app === undefined ? this.store.appKeys() : [app]) {
      const q: AppSeries = this.store.query(key, from, to, maxPoints);
      if (q.t.length === 0 && app === undefined) continue;
      apps[key] = {
        t: q.t,
        series: q.series.map((s) => {
          const css = cssColor(s.color);
          return css ? { color: s.color, css, values: s.values } : { color: s.color, values: s.values };
        }),
      };
    }
    const view: SeriesView = { window, to, apps };
    if (from !== undefined) view.from = from;
    return view;
  }

  /** One read; concurrent calls share it. */
  tick(): Promise<DashboardSnapshot> {
    this.running ??= this.read().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Reads now, then every interval until stop(). */
  start(): void {
    this.stopped = false;
    const loop = async () => {
      const started = Date.now();
      await this.tick();
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), Math.max(0, this.opts.intervalMs - (Date.now() - started)));
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async read(): Promise<DashboardSnapshot> {
    let error: string | undefined;
    try {
      const report = await this.opts.collect();
      this.record(report);
      this.report = report;
    } catch (err) {
      error = describeReadError(err);
    }
    if (this.report && this.opts.listEvents) {
      try {
        const events = await this.opts.listEvents();
        this.events = this.selectEvents(events, this.report);
        this.eventsErrors = new Map();
      } catch (err) {
        this.eventsErrors = new Map([['*', describeReadError(err, 'list the rainbow Events')]]);
      }
    }
    if (error !== this.error) this.opts.onReadError?.(error);
    this.error = error;
    this.latest = this.build();
    for (const l of this.listeners) {
      try {
        l(this.latest);
      } catch {
        /* a closed stream's listener; it unsubscribes on close */
      }
    }
    return this.latest;
  }

  private record(report: StatusReport): void {
    const samples: Sample[] = [];
    const present = new Map<string, Set<string>>();
    for (const a of report.apps) {
      const key = appKey(a.namespace, a.app);
      const colors = new Set<string>();
      present.set(key, colors);
      for (const c of a.colors) {
        colors.add(c.color);
        // A color without a Deployment was not asked: no line rather than a gap.
        if (c.connections !== undefined) samples.push({ app: key, color: c.color, value: c.connections });
        else if (c.connectionsError !== undefined) samples.push({ app: key, color: c.color, value: null });
      }
    }
    const at = report.generatedAt.getTime();
    this.store.append(at, samples);
    this.store.evictGone(present, at);
  }

  private selectEvents(events: readonly CoreV1Event[], report: StatusReport): Map<string, EventView[]> {
    const out = new Map<string, EventView[]>();
    for (const a of report.apps) {
      const key = appKey(a.namespace, a.app);
      out.set(
        key,
        eventsOfApp(events, {
          namespace: a.namespace,
          app: a.app,
          services: a.services.map((s) => s.name),
          deployments: a.colors.flatMap((c) => (c.deployment ? [c.deployment] : [])),
          colors: [...new Set([...a.colors.map((c) => c.color), ...this.store.colorsOf(key)])],
        }),
      );
    }
    return out;
  }

  private build(): DashboardSnapshot {
    return snapshotView({
      report: this.report,
      events: this.events,
      eventsErrors: this.eventsErrors,
      intervalMs: this.opts.intervalMs,
      scope: this.opts.scope,
      ...(this.error ? { error: this.error } : {}),
      ...(this.opts.forecast ? { forecast: this.opts.forecast, samplesOf: (app: string, color: string, from?: number) => this.store.samples(app, color, from) } : {}),
    });
  }
}
