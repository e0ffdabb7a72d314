// The controller's reconciler: watches the apps' Services and Deployments (ObjectSource), plans
// each app with planner.ts when one of its objects changes, and acts through the API server
// (ControllerApi), whose admission webhooks see every write, deletes included.
//
//  - Changes are debounced per app (debounceMs); a Deployment update that makes a pending color
//    Available is reconciled at once, so a promotion lands well within a second.
//  - Every intervalMs a drain check lists each app's pods, asks them for their connections and
//    keeps a DrainObservation per color in memory, then reconciles the app with it. A color's
//    zeroSince starts at the first probe that reads 0: after a restart (or a leadership change,
//    or a gap in probing) a drained color waits drain-grace again. That is the safe direction.
//  - Work on one app is serialized; apps proceed in parallel.
//  - Nothing is written unless isLeader() says so, checked right before every write.
//  - A refused delete (403 from the guard) is logged, reported as an Event and retried at the next
//    drain check, after the color has again read 0 for drain-grace.
//  - Shrink (planner.ts): deletion costs and scale-downs are planned only in a drain round, from
//    that round's counts; a scale-down the guard refuses, or that races another write (409), is
//    planned again at the next round. Restoring a shrunk color is planned on any reconcile, so a
//    rollback gets its replicas back at once.
import { hostname } from 'node:os';
import type { CoreV1Event, V1Deployment, V1Service } from '@kubernetes/client-node';
import { askPods as defaultAskPods } from '../net/ask-pods.js';
import { apiErrorMessage, statusOf } from '../kube/client.js';
import {
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_FORCE_DELETE,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_POD_DELETION_COST,
  ANNOTATION_SHRUNK_FROM,
  LABEL_APP,
  LABEL_COLOR,
} from '../domain/contract.js';
import { createLogger, type Logger } from '../runtime/log.js';
import { appOf, colorOfDeployment, deploymentOfColor, isDeploymentAvailable } from '../domain/availability.js';
import { formatDuration } from '../domain/durations.js';
import { annotationOf } from '../domain/objects.js';
import { isAdmissionDenial, type ControllerApi, type ObjectSource } from './kube-io.js';
import { forgetApp, recordColors, type ControllerMetrics } from './metrics.js';
import { planAppDetailed, type Action } from './planner.js';
import { formatDrainStarted, nextObservation, type AppColors, type DeploymentRef, type DrainObservation } from '../domain/color-states.js';
import { probeColors, type AskPodsFn } from '../net/probe.js';

export const REPORTING_COMPONENT = 'rainbow-controller';

export type EventReason =
  | 'Promoted'
  | 'DrainStarted'
  | 'Drained'
  | 'Deleted'
  | 'DrainDeadlineExceeded'
  | 'DeleteRefused'
  | 'DeleteFailed'
  | 'Shrunk'
  | 'ShrinkRefused'
  | 'Restored';

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
  /** Call when leadership changes: gaining it reconciles everything; losing it forgets observations. */
  leadershipChanged(leading: boolean): void;
  /** What the loop has seen of an app's colors (a copy). */
  observations(namespace: string, app: string): Map<string, DrainObservation>;
  /** The last planned states of an app. */
  lastColors(namespace: string, app: string): AppColors | undefined;
  synced(): boolean;
}

interface AppState {
  namespace: string;
  app: string;
  observations: Map<string, DrainObservation>;
  /** Colors seen serving since this controller started (see PlanInput.served). */
  served: Set<string>;
  chain: Promise<void>;
  /** A reconcile is queued behind the chain and not started yet. */
  queued?: { probe: boolean };
  timer?: NodeJS.Timeout;
  timerDue?: number;
  warned: Set<string>;
  /** Deployment uid → time (ms) before which a refused delete is not retried. */
  holdDeletes: Map<string, number>;
  /** uid:reason of Events already sent for a color (Drained, DrainDeadlineExceeded, refusals). */
  announced: Map<string, number>;
  colors?: AppColors;
}

const keyOf = (namespace: string, app: string) => `${namespace}/${app}`;

export function createControllerLoop(opts: ControllerLoopOptions): ControllerLoop {
  const { source, api } = opts;
  const ask = opts.askPods ?? defaultAskPods;
  const now = opts.now ?? (() => new Date());
  const intervalMs = opts.intervalMs ?? 10_000;
  const debounceMs = opts.debounceMs ?? 100;
  const podTimeoutMs = opts.podTimeoutMs ?? 2000;
  const concurrency = opts.concurrency ?? 16;
  const isLeader = opts.isLeader ?? (() => true);
  const identity = opts.identity ?? hostname();
  const log = opts.log ?? createLogger({ name: 'controller', level: 'silent' });
  const metrics = opts.metrics;
  /** A probe older than this does not carry zeroSince over (missed checks, standby). */
  const maxGapMs = opts.maxProbeGapMs ?? (intervalMs > 0 ? Math.max(3 * intervalMs, 30_000) : Infinity);

  const apps = new Map<string, AppState>();
  let started = false;
  let stopped = false;
  let isSynced = false;
  let roundTimer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let eventSeq = 0;

  const stateOf = (namespace: string, app: string): AppState => {
    const k = keyOf(namespace, app);
    let s = apps.get(k);
    if (!s) {
      s = { namespace, app, observations: new Map(), served: new Set(), chain: Promise.resolve(), warned: new Set(), holdDeletes: new Map(), announced: new Map() };
      apps.set(k, s);
    }
    return s;
  };

  const appObjects = (namespace: string, app: string) => ({
    services: source.services(namespace).filter((s) => appOf(s) === app),
    deployments: source.deployments(namespace).filter((d) => appOf(d) === app),
  });

  /** Every app that has an object in the caches, plus those the loop still tracks. */
  const knownApps = (): Array<{ namespace: string; app: string }> => {
    const seen = new Map<string, { namespace: string; app: string }>();
    for (const o of [...source.services(), ...source.deployments()]) {
      const app = appOf(o);
      const namespace = o.metadata?.namespace;
      if (app && namespace) seen.set(keyOf(namespace, app), { namespace, app });
    }
    for (const s of apps.values()) seen.set(keyOf(s.namespace, s.app), { namespace: s.namespace, app: s.app });
    return [...seen.values()];
  };

  // --- scheduling ------------------------------------------------------------------------------

  /** Queue a reconcile behind the app's chain; coalesces with one already queued. */
  const enqueue = (s: AppState, probe: boolean): Promise<void> => {
    if (s.queued) {
      s.queued.probe ||= probe;
      return s.chain;
    }
    const q = { probe };
    s.queued = q;
    s.chain = s.chain.then(async () => {
      s.queued = undefined;
      if (stopped) return;
      try {
        await reconcile(s, q.probe);
      } catch (err) {
        metrics?.reconcileErrors.inc();
        log.error({ namespace: s.namespace, app: s.app, err: apiErrorMessage(err) }, 'reconcile failed');
      }
    });
    return s.chain;
  };

  const schedule = (namespace: string, app: string, delayMs: number): void => {
    if (stopped || !isSynced) return;
    const s = stateOf(namespace, app);
    const due = Date.now() + delayMs;
    if (s.timer && s.timerDue !== undefined && s.timerDue <= due) return;
    clearTimeout(s.timer);
    s.timerDue = due;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.timerDue = undefined;
      void enqueue(s, false);
    }, delayMs);
  };

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

  // --- reconcile ---------------------------------------------------------------------------------

  const probe = async (s: AppState, colors: Array<{ color: string; deployment?: V1Deployment }>): Promise<void> => {
    if (colors.length === 0) return;
    let results: Awaited<ReturnType<typeof probeColors>>;
    try {
      const pods = await api.listPods(s.namespace, `${LABEL_APP}=${s.app}`);
      results = await probeColors(pods, colors, ask, { timeoutMs: podTimeoutMs, concurrency });
    } catch (err) {
      metrics?.reconcileErrors.inc();
      const why = `cannot list pods: ${apiErrorMessage(err)}`;
      log.warn({ namespace: s.namespace, app: s.app, err: why }, 'drain check failed');
      results = new Map(colors.map((c) => [c.color, { count: 0, unknown: why, errors: [why], perPod: {}, failed: {} }]));
    }
    const at = now();
    for (const [color, r] of results) {
      const prev = s.observations.get(color);
      const gapped = prev?.observedAt && at.getTime() - prev.observedAt.getTime() > maxGapMs;
      const next = nextObservation(gapped ? undefined : prev, r, at);
      s.observations.set(color, next);
      if (r.unknown === undefined) metrics?.connections.set({ namespace: s.namespace, app: s.app, color }, r.count);
      else metrics?.connections.remove({ namespace: s.namespace, app: s.app, color });
      if (r.unknown !== undefined) log.debug({ namespace: s.namespace, app: s.app, color, unknown: r.unknown }, 'connections unknown');
    }
  };

  const reconcile = async (s: AppState, withProbe: boolean): Promise<void> => {
    // Read the caches at each step: they move while pods are being asked.
    const input = () => ({ app: s.app, namespace: s.namespace, ...appObjects(s.namespace, s.app), drain: s.observations, served: s.served, now: now() });
    const before = input();
    if (before.services.length === 0 && before.deployments.length === 0) {
      if (metrics) forgetApp(metrics, s.namespace, s.app, [...s.observations.keys()]);
      clearTimeout(s.timer);
      apps.delete(keyOf(s.namespace, s.app));
      return;
    }

    const probed = withProbe && isLeader();
    if (probed) {
      const toAsk = planAppDetailed(before)
        .actions.filter((a): a is Extract<Action, { type: 'ask-pods' }> => a.type === 'ask-pods')
        .map((a) => ({ color: a.color, deployment: deploymentOfColor(before.deployments, s.app, a.color) }));
      await probe(s, toAsk);
    }

    const { actions, colors } = planAppDetailed(probed ? { ...input(), drainRound: true } : before);
    s.colors = colors;
    // Remember what served: a color that stops serving without the controller's doing (a rollback,
    // a hand edit) is then known to be a previous color, even if it is the newest.
    for (const c of colors.colors) if (c.state === 'serving') s.served.add(c.color);
    const present = new Set(colors.colors.map((c) => c.color));
    for (const color of [...s.observations.keys()]) {
      if (!present.has(color)) {
        s.observations.delete(color);
        metrics?.connections.remove({ namespace: s.namespace, app: s.app, color });
      }
    }
    if (metrics) recordColors(metrics, s.namespace, s.app, colors.colors.map((c) => c.state));

    for (const action of actions) {
      if (stopped) return;
      if (action.type === 'warn') {
        warnOnce(s, action.message);
        continue;
      }
      if (action.type === 'ask-pods') continue;
      if (action.type === 'shrink-held') {
        log.debug({ namespace: s.namespace, app: s.app, color: action.color, from: action.from, to: action.to, reason: action.reason }, 'shrink held; deciding again at the next drain check');
        continue;
      }
      if (!isLeader()) return;
      try {
        await act(s, action, colors);
      } catch (err) {
        metrics?.reconcileErrors.inc();
        const code = statusOf(err);
        log.error({ namespace: s.namespace, app: s.app, action: action.type, code, err: apiErrorMessage(err) }, 'reconcile step failed; retrying');
        if (code === 409 && (action.type === 'promote' || action.type === 'clear-pending')) {
          // The Service changed under us: its watch event brings the new version and a reconcile;
          // this one is the fallback should that event be missed.
          schedule(s.namespace, s.app, Math.max(debounceMs, 1000));
        } else if (action.type === 'promote' || action.type === 'clear-pending' || action.type === 'stamp-drain-started' || action.type === 'restore-replicas') {
          schedule(s.namespace, s.app, Math.min(5000, intervalMs || 5000));
        }
      }
    }
  };

  const warnOnce = (s: AppState, message: string): void => {
    if (s.warned.has(message)) return;
    if (s.warned.size > 200) s.warned.clear();
    s.warned.add(message);
    log.warn({ namespace: s.namespace, app: s.app }, message);
  };

  // --- acting -------------------------------------------------------------------------------------

  const event = async (ref: DeploymentRef | { kind: 'Service'; name: string; namespace: string }, type: 'Normal' | 'Warning', reason: EventReason, message: string, action: string): Promise<void> => {
    const t = now();
    const kind = 'kind' in ref ? ref.kind : 'Deployment';
    const ev: CoreV1Event = {
      metadata: { name: `${ref.name}.${(BigInt(t.getTime()) * 1_000_000n + BigInt(eventSeq++ % 1_000_000)).toString(16)}`, namespace: ref.namespace },
      involvedObject: {
        apiVersion: kind === 'Service' ? 'v1' : 'apps/v1',
        kind,
        name: ref.name,
        namespace: ref.namespace,
        ...('uid' in ref && ref.uid ? { uid: ref.uid } : {}),
      },
      reason,
      message: message.length > 1000 ? `${message.slice(0, 999)}…` : message,
      type,
      action,
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component: REPORTING_COMPONENT, host: identity },
      reportingComponent: REPORTING_COMPONENT,
      reportingInstance: identity,
    };
    try {
      await api.createEvent(ref.namespace, ev);
    } catch (err) {
      log.warn({ namespace: ref.namespace, name: ref.name, reason, err: apiErrorMessage(err) }, 'could not record Event');
    }
  };

  const act = async (s: AppState, a: Action, colors: AppColors): Promise<void> => {
    const ns = s.namespace;
    const l = log.child({ namespace: ns, app: s.app });
    switch (a.type) {
      case 'promote': {
        await api.patchService(ns, a.service, {
          metadata: { ...(a.resourceVersion ? { resourceVersion: a.resourceVersion } : {}), annotations: { [ANNOTATION_PENDING_COLOR]: null } },
          spec: { selector: { [LABEL_COLOR]: a.to } },
        });
        metrics?.promotions.inc();
        const msg = `Service ${a.service} now routes to color ${a.to}${a.from ? ` (was ${a.from})` : ''}: Deployment ${a.deployment.name} is Available`;
        l.info({ service: a.service, from: a.from, to: a.to }, 'promoted');
        await Promise.all([
          event(a.deployment, 'Normal', 'Promoted', msg, 'Promote'),
          event({ kind: 'Service', name: a.service, namespace: ns }, 'Normal', 'Promoted', msg, 'Promote'),
        ]);
        return;
      }
      case 'clear-pending': {
        await api.patchService(ns, a.service, {
          metadata: { ...(a.resourceVersion ? { resourceVersion: a.resourceVersion } : {}), annotations: { [ANNOTATION_PENDING_COLOR]: null } },
        });
        l.info({ service: a.service, color: a.color }, `removed ${ANNOTATION_PENDING_COLOR}: the Service already routes to it`);
        return;
      }
      case 'stamp-drain-started': {
        const value = formatDrainStarted(a.at);
        await api.patchDeployment(ns, a.deployment.name, { metadata: { annotations: { [ANNOTATION_DRAIN_STARTED]: value } } });
        const st = colors.settings;
        const kept = colors.colors.find((c) => c.color === a.color)?.state === 'kept';
        const then = kept
          ? `It is kept for rollback (keep-colors ${st.keepColors}) until newer colors replace it.`
          : `It is deleted once it has read 0 connections for ${formatDuration(st.drainGraceSeconds)}, or after max-drain ${formatDuration(st.maxDrainSeconds)} at the latest.`;
        l.info({ color: a.color, deployment: a.deployment.name, drainStarted: value }, 'drain started');
        await event(a.deployment, 'Normal', 'DrainStarted', `color ${a.color} serves no Service since ${value}. ${then}`, 'Drain');
        return;
      }
      case 'clear-drain-started': {
        await api.patchDeployment(ns, a.deployment.name, { metadata: { annotations: { [ANNOTATION_DRAIN_STARTED]: null } } });
        l.info({ color: a.color, deployment: a.deployment.name, was: a.value }, `color serves again: removed ${ANNOTATION_DRAIN_STARTED}`);
        return;
      }
      case 'delete':
        return deleteColor(s, a, l);
      case 'set-deletion-cost':
        return setDeletionCosts(s, a, l);
      case 'shrink':
        return shrink(s, a, l);
      case 'restore-replicas': {
        await api.patchDeployment(ns, a.deployment.name, {
          metadata: { ...(a.resourceVersion ? { resourceVersion: a.resourceVersion } : {}), annotations: { [ANNOTATION_SHRUNK_FROM]: null } },
          ...(a.to !== a.from ? { spec: { replicas: a.to } } : {}),
        });
        if (a.to !== a.from) metrics?.restores.inc();
        l.info({ color: a.color, deployment: a.deployment.name, from: a.from, to: a.to }, a.message);
        if (a.to !== a.from) await event(a.deployment, 'Normal', 'Restored', a.message, 'Scale');
        return;
      }
    }
  };

  /** Every listed pod's deletion cost, in parallel (bounded); a pod gone meanwhile is skipped. */
  const setDeletionCosts = async (s: AppState, a: Extract<Action, { type: 'set-deletion-cost' }>, l: Logger): Promise<void> => {
    const queue = [...a.pods];
    const failures: string[] = [];
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        if (!isLeader() || stopped) return;
        try {
          await api.patchPod(s.namespace, p.name, { metadata: { annotations: { [ANNOTATION_POD_DELETION_COST]: String(p.cost) } } });
        } catch (err) {
          if (statusOf(err) !== 404) failures.push(`${p.name}: ${apiErrorMessage(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, a.pods.length) }, worker));
    l.debug({ color: a.color, pods: a.pods.map((p) => `${p.name}=${p.cost}`), failed: failures.length }, 'pod deletion costs written');
    if (failures.length > 0) {
      metrics?.reconcileErrors.inc();
      l.warn({ color: a.color, err: failures.slice(0, 5).join('; '), failed: failures.length }, 'could not write pod deletion costs; the shrink waits for them');
    }
  };

  const shrink = async (s: AppState, a: Extract<Action, { type: 'shrink' }>, l: Logger): Promise<void> => {
    const id = a.deployment.uid ?? a.deployment.name;
    try {
      await api.patchDeployment(s.namespace, a.deployment.name, {
        metadata: { ...(a.resourceVersion ? { resourceVersion: a.resourceVersion } : {}), annotations: { [ANNOTATION_SHRUNK_FROM]: String(a.shrunkFrom) } },
        spec: { replicas: a.to },
      });
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return;
      if (code === 409) {
        l.info({ color: a.color, deployment: a.deployment.name }, 'Deployment changed since the drain check; deciding the shrink again at the next one');
        return;
      }
      metrics?.reconcileErrors.inc();
      const why = apiErrorMessage(err);
      const denied = isAdmissionDenial(err);
      l.warn({ color: a.color, deployment: a.deployment.name, code, err: why }, denied ? 'shrink refused by the guard; deciding again at the next drain check' : 'shrink failed; retrying');
      if (!denied) return;
      const t = now().getTime();
      // One Event per color and 10 minutes: the guard's message changes with every count.
      const k = `${id}:shrink-refused`;
      const last = s.announced.get(k);
      if (last === undefined || t - last >= 600_000) {
        s.announced.set(k, t);
        await event(a.deployment, 'Warning', 'ShrinkRefused', `scaling Deployment ${a.deployment.name} from ${a.from} to ${a.to} replicas failed: ${why}`, 'Scale');
      }
      return;
    }
    metrics?.shrinks.inc();
    metrics?.shrinkRemovedPods.inc(a.from - a.to);
    l.info({ color: a.color, deployment: a.deployment.name, from: a.from, to: a.to, connections: a.connections }, a.message);
    await event(a.deployment, 'Normal', 'Shrunk', a.message, 'Scale');
  };

  const deleteColor = async (s: AppState, a: Extract<Action, { type: 'delete' }>, l: Logger): Promise<void> => {
    const ns = s.namespace;
    const id = a.deployment.uid ?? a.deployment.name;
    const hold = s.holdDeletes.get(id);
    const t = now().getTime();
    if (hold !== undefined && hold > t) return;
    s.holdDeletes.delete(id);

    const announce = async (reason: EventReason, type: 'Normal' | 'Warning', message: string) => {
      const k = `${id}:${reason}`;
      if (s.announced.has(k)) return;
      s.announced.set(k, t);
      await event(a.deployment, type, reason, message, 'Delete');
    };
    if (a.force) {
      await api.patchDeployment(ns, a.deployment.name, { metadata: { annotations: { [ANNOTATION_FORCE_DELETE]: 'true' } } });
      l.warn({ color: a.color, deployment: a.deployment.name }, a.message);
      await announce('DrainDeadlineExceeded', 'Warning', a.message);
    } else {
      await announce('Drained', 'Normal', a.message);
    }
    if (!isLeader()) return;
    try {
      await api.deleteDeployment(ns, a.deployment.name, a.deployment.uid);
    } catch (err) {
      const code = statusOf(err);
      if (code === 404 || code === 409) return; // already gone, or another incarnation: the watch will tell
      metrics?.reconcileErrors.inc();
      const why = apiErrorMessage(err);
      s.holdDeletes.set(id, t + (intervalMs || 10_000));
      // Connections appeared (or a pod could not be asked): the color must read 0 for drain-grace again.
      const obs = s.observations.get(a.color);
      if (obs) s.observations.set(a.color, { ...obs, zeroSince: undefined });
      const denied = isAdmissionDenial(err);
      l.warn({ color: a.color, deployment: a.deployment.name, code, err: why }, denied ? 'delete refused by the guard; retrying at a later drain check' : 'delete failed; retrying');
      // One Event per refusal reason and 10 minutes, not one per drain check.
      const k = `${id}:refused:${why.slice(0, 200)}`;
      const last = s.announced.get(k);
      if (last === undefined || t - last >= 600_000) {
        s.announced.set(k, t);
        await event(a.deployment, 'Warning', denied ? 'DeleteRefused' : 'DeleteFailed', `deleting Deployment ${a.deployment.name} (${a.reason}) failed: ${why}`, 'Delete');
      }
      return;
    }
    metrics?.deletions.inc({ reason: a.reason });
    s.observations.delete(a.color);
    s.holdDeletes.delete(id);
    for (const k of [...s.announced.keys()]) if (k.startsWith(`${id}:`)) s.announced.delete(k);
    l.info({ color: a.color, deployment: a.deployment.name, reason: a.reason }, 'deleted');
    await event(a.deployment, 'Normal', 'Deleted', `Deployment ${a.deployment.name} (color ${a.color}) deleted: ${a.reason === 'drained' ? 'drained' : 'past max-drain'}`, 'Delete');
  };

  // --- drain rounds -------------------------------------------------------------------------------

  /** Every app: probe (when leading) and reconcile. A standby only refreshes states and metrics. */
  const runRound = async (): Promise<void> => {
    await Promise.all(knownApps().map(({ namespace, app }) => enqueue(stateOf(namespace, app), true)));
  };
  const trackRound = (): Promise<void> => {
    const r = runRound().finally(() => {
      if (round === r) round = undefined;
    });
    round = r;
    return r;
  };

  const scheduleRound = (): void => {
    if (stopped || intervalMs <= 0) return;
    roundTimer = setTimeout(() => {
      void trackRound().finally(scheduleRound);
    }, intervalMs);
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
      await trackRound();
      scheduleRound();
    },
    async stop() {
      stopped = true;
      clearTimeout(roundTimer);
      for (const s of apps.values()) clearTimeout(s.timer);
      await source.stop();
      await round;
      await Promise.all([...apps.values()].map((s) => s.chain));
    },
    reconcileNow: (namespace, app) => enqueue(stateOf(namespace, app), false),
    drainCheckNow: () => trackRound(),
    async idle() {
      for (;;) {
        await round;
        await Promise.all([...apps.values()].map((s) => s.chain));
        if (!round && [...apps.values()].every((s) => !s.timer && !s.queued)) return;
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(debounceMs, 50))));
      }
    },
    leadershipChanged(leading) {
      metrics?.leader.set(leading ? 1 : 0);
      if (leading) {
        if (isSynced && !stopped) void trackRound();
      } else {
        for (const s of apps.values()) s.observations.clear();
      }
    },
    observations: (namespace, app) => new Map(apps.get(keyOf(namespace, app))?.observations ?? []),
    lastColors: (namespace, app) => apps.get(keyOf(namespace, app))?.colors,
    synced: () => isSynced,
  };
}

