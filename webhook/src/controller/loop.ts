// The controller's reconciler: watches the apps' Services and Deployments (ObjectSource), plans
// each app with planner.ts when one of its objects changes, and acts through the API server
// (ControllerApi). This file wires the parts together:
//
//  - queue.ts: per-app work, serialized per app and parallel across apps; changes are debounced,
//    and a Deployment update that makes a pending color Available is reconciled at once, so that
//    a promotion does not wait for the debounce. A drain round every intervalMs probes and
//    reconciles every app.
//  - reconcile.ts: one reconcile as steps on the app's AppContext (app-context.ts).
//  - drain-check.ts: asking the pods for their connections, kept as DrainObservations.
//  - actuator.ts: the writes and their Events (events.ts). A refused delete is reported and
//    retried at a later drain check, after the color has again read 0 for drain-grace.
//  - Shrink (planner.ts): deletion costs and scale-downs are planned only in a drain round, from
//    that round's counts; a scale-down the guard refuses, or that races another write, is planned
//    again at the next round. Restoring a shrunk color is planned on any reconcile, so that a
//    rollback gets its replicas back at once.
import { hostname } from 'node:os';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { askPods as defaultAskPods } from '../net/ask-pods.js';
import { apiErrorMessage } from '../kube/client.js';
import { ANNOTATION_PENDING_COLOR } from '../domain/contract.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { appOf, colorOfDeployment, isDeploymentAvailable } from '../domain/availability.js';
import { annotationOf } from '../domain/objects.js';
import type { AppColors, DrainObservation } from '../domain/color-states.js';
import type { AskPodsFn } from '../net/probe.js';
import type { ControllerApi, ObjectSource } from './kube-io.js';
import { forgetDrainForecast, type ControllerMetrics } from './metrics.js';
import { appKey, newAppContext, type AppContext } from './app-context.js';
import { createActuator } from './actuator.js';
import { createDrainCheck, defaultMaxProbeGapMs } from './drain-check.js';
import { createEventRecorder } from './events.js';
import { createWorkQueue } from './queue.js';
import { createReconciler } from './reconcile.js';

export interface ControllerLoopOptions {
  source: ObjectSource;
  api: ControllerApi;
  /** Default: net/ask-pods.ts. */
  askPods?: AskPodsFn;
  /** Default: () => new Date(). Used for planning, stamps and observations. */
  now?: () => Date;
  /** Drain check period (default 10 000 ms). 0 disables the timer: call drainCheckNow(). */
  intervalMs?: number;
  /** Delay that gathers a burst of changes of one app into one reconcile (default 100 ms). */
  debounceMs?: number;
  /** Per pod budget for /connections (default 2000 ms). */
  podTimeoutMs?: number;
  /** Pods asked at once per app (default 16). */
  concurrency?: number;
  /**
   * A probe further apart than this from the previous one does not carry zeroSince over (missed
   * checks, standby). Default: 3 × intervalMs, at least 30 s; no limit when intervalMs is 0.
   */
  maxProbeGapMs?: number;
  /** Gate for every write (default: always). */
  isLeader?: () => boolean;
  /** Event reportingInstance and source.host (default hostname). */
  identity?: string;
  log?: Logger;
  metrics?: ControllerMetrics;
}

export interface ControllerLoop {
  /** Starts the watches; resolves once the caches are complete and a first reconcile of every app is done. */
  start(): Promise<void>;
  /** Stops timers and watches and waits for the work in flight. */
  stop(): Promise<void>;
  /** Reconcile one app now (no probing), waiting for it. */
  reconcileNow(namespace: string, app: string): Promise<void>;
  /** One drain check of every app now (probe, then reconcile), waiting for it. */
  drainCheckNow(): Promise<void>;
  /** Resolves when no reconcile is scheduled or running. */
  idle(): Promise<void>;
  /** Call when leadership changes: gaining it reconciles everything; losing it forgets observations and forecast metrics. */
  leadershipChanged(leading: boolean): void;
  /** What the loop has seen of an app's colors (a copy). */
  observations(namespace: string, app: string): Map<string, DrainObservation>;
  /** The last planned states of an app. */
  lastColors(namespace: string, app: string): AppColors | undefined;
  synced(): boolean;
}

export function createControllerLoop(opts: ControllerLoopOptions): ControllerLoop {
  const { source, api } = opts;
  const now = opts.now ?? (() => new Date());
  const intervalMs = opts.intervalMs ?? 10_000;
  const debounceMs = opts.debounceMs ?? 100;
  const concurrency = opts.concurrency ?? 16;
  const isLeader = opts.isLeader ?? (() => true);
  const log = opts.log ?? createLogger({ name: 'controller', level: 'silent' });
  const metrics = opts.metrics;

  const apps = new Map<string, AppContext>();
  let started = false;
  let isSynced = false;

  const contextOf = (namespace: string, app: string): AppContext => {
    const k = appKey(namespace, app);
    let ctx = apps.get(k);
    if (!ctx) {
      ctx = newAppContext(namespace, app);
      apps.set(k, ctx);
    }
    return ctx;
  };

  /** Every app that has an object in the caches, plus those the loop still tracks. */
  const knownApps = (): Array<{ namespace: string; app: string }> => {
    const seen = new Map<string, { namespace: string; app: string }>();
    for (const o of [...source.services(), ...source.deployments()]) {
      const app = appOf(o);
      const namespace = o.metadata?.namespace;
      if (app && namespace) seen.set(appKey(namespace, app), { namespace, app });
    }
    for (const ctx of apps.values()) seen.set(ctx.key, { namespace: ctx.namespace, app: ctx.app });
    return [...seen.values()];
  };

  const queue = createWorkQueue<AppContext>({
    keyOf: (ctx) => ctx.key,
    run: (ctx, probe) => reconcile(ctx, probe),
    onError(ctx, err) {
      metrics?.reconcileErrors.inc();
      log.error({ namespace: ctx.namespace, app: ctx.app, err: apiErrorMessage(err) }, 'reconcile failed');
    },
    roundItems: () => knownApps().map(({ namespace, app }) => contextOf(namespace, app)),
    intervalMs,
    idlePollMs: Math.max(1, Math.min(debounceMs, 50)),
  });
  const isStopped = () => queue.stopped;

  const schedule = (namespace: string, app: string, delayMs: number): void => {
    if (queue.stopped || !isSynced) return;
    queue.schedule(contextOf(namespace, app), delayMs);
  };

  const reconcile = createReconciler({
    source,
    drainCheck: createDrainCheck({
      api,
      ask: opts.askPods ?? defaultAskPods,
      now,
      podTimeoutMs: opts.podTimeoutMs ?? 2000,
      concurrency,
      maxGapMs: opts.maxProbeGapMs ?? defaultMaxProbeGapMs(intervalMs),
      log,
      metrics,
    }),
    actuator: createActuator({
      api,
      events: createEventRecorder({ api, identity: opts.identity ?? hostname(), now, log }),
      log,
      metrics,
      now,
      isLeader,
      isStopped,
      concurrency,
      deleteRetryMs: intervalMs || 10_000,
    }),
    now,
    isLeader,
    isStopped,
    forget(ctx) {
      queue.forget(ctx);
      apps.delete(ctx.key);
    },
    retry: (ctx, delayMs) => schedule(ctx.namespace, ctx.app, delayMs),
    debounceMs,
    intervalMs,
    log,
    metrics,
  });

  // --- watch events ----------------------------------------------------------------------------

  const pendingColorsOf = (namespace: string, app: string): Set<string> =>
    new Set(
      source
        .services(namespace)
        .filter((s) => appOf(s) === app)
        .map((s) => annotationOf(s, ANNOTATION_PENDING_COLOR)?.trim())
        .filter((c): c is string => Boolean(c)),
    );

  const onService = (svc: V1Service): void => {
    const app = appOf(svc);
    const ns = svc.metadata?.namespace;
    if (app && ns) schedule(ns, app, debounceMs);
  };

  const onDeployment = (d: V1Deployment): void => {
    const app = appOf(d);
    const ns = d.metadata?.namespace;
    if (!app || !ns) return;
    const color = colorOfDeployment(d);
    const urgent = color !== undefined && isDeploymentAvailable(d) && pendingColorsOf(ns, app).has(color);
    schedule(ns, app, urgent ? 0 : debounceMs);
  };

  return {
    async start() {
      if (started) throw new Error('controller loop already started');
      started = true;
      await source.start({
        onService,
        onDeployment,
        onError: (kind, err, ms) => log.warn({ kind, err: apiErrorMessage(err), retryInMs: ms }, 'watch failed; restarting'),
        onRecovered: (kind) => log.info({ kind }, 'watch established again'),
      });
      isSynced = true;
      log.info({ apps: knownApps().length }, 'caches synced');
      await queue.start();
    },
    async stop() {
      queue.stop();
      await source.stop();
      await queue.drained();
    },
    reconcileNow: (namespace, app) => queue.enqueue(contextOf(namespace, app), false),
    drainCheckNow: () => queue.round(),
    idle: () => queue.idle(),
    leadershipChanged(leading) {
      metrics?.leader.set(leading ? 1 : 0);
      if (leading) {
        if (isSynced && !queue.stopped) void queue.round();
      } else {
        for (const ctx of apps.values()) {
          ctx.observations.clear();
          // A standby does not forecast: its last figures would go stale.
          if (metrics) for (const c of ctx.colors?.colors ?? []) forgetDrainForecast(metrics, ctx.namespace, ctx.app, c.color);
        }
      }
    },
    observations: (namespace, app) => new Map(apps.get(appKey(namespace, app))?.observations ?? []),
    lastColors: (namespace, app) => apps.get(appKey(namespace, app))?.colors,
    synced: () => isSynced,
  };
}
