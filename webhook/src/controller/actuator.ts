// Carries out the planner's write actions through the API server, whose admission webhooks see
// every write (deletes included), and reports them as Events. The body of every write is built by
// a pure function below, so that each patch can be checked on its own.
import { apiErrorMessage, statusOf } from '../kube/client.js';
import {
  ANNOTATION_DRAIN_FORECAST,
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_FORCE_DELETE,
  ANNOTATION_ON_UNINSTALL,
  FINALIZER_DELETED_PREFIX,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_POD_DELETION_COST,
  ANNOTATION_SHRUNK_FROM,
  ANNOTATION_ZERO_SINCE,
  LABEL_COLOR,
} from '../domain/contract.js';
import { formatDuration } from '../domain/durations.js';
import { formatDrainStarted, type AppColors } from '../domain/color-states.js';
import type { Logger } from '../runtime/log.js';
import type { AppContext } from './app-context.js';
import { announcementDue, firstAnnouncement, forgetAnnouncements, type EventReason, type EventRecorder, type EventType } from './events.js';
import { isAdmissionDenial, type ControllerApi } from './kube-io.js';
import type { ControllerMetrics } from './metrics.js';
import type { Action } from './planner.js';

/** The actions that write; the others (warn, ask-pods, shrink-held) are handled by the reconcile itself. */
export type WriteAction = Exclude<Action, { type: 'warn' | 'ask-pods' | 'shrink-held' }>;

type Of<K extends WriteAction['type']> = Extract<WriteAction, { type: K }>;

// --- patch builders (JSON merge patches: null removes a key) -------------------------------------

/** A resourceVersion precondition, when the planner read one: the write fails with 409 if the object moved. */
const precondition = (resourceVersion: string | undefined) => (resourceVersion ? { resourceVersion } : {});

/** Service: route to the pending color and drop the pending-color annotation. */
export function promotePatch(a: Pick<Of<'promote'>, 'to' | 'resourceVersion'>) {
  return {
    metadata: { ...precondition(a.resourceVersion), annotations: { [ANNOTATION_PENDING_COLOR]: null } },
    spec: { selector: { [LABEL_COLOR]: a.to } },
  };
}

/** Service: drop a pending-color annotation that names the color already served. */
export function clearPendingPatch(a: Pick<Of<'clear-pending'>, 'resourceVersion'>) {
  return { metadata: { ...precondition(a.resourceVersion), annotations: { [ANNOTATION_PENDING_COLOR]: null } } };
}

/** Deployment: stamp the time its color stopped serving (with the color's record-color annotations, if any, in the same patch). */
export function drainStartedPatch(at: Date, record: Record<string, string | null> = {}) {
  return { metadata: { annotations: { ...record, [ANNOTATION_DRAIN_STARTED]: formatDrainStarted(at) } } };
}

/** Deployment: the controller's own annotations (served-at, drain-settings, zero-since, no-service-since); null removes one. With `finalizers`, the list without a stale one of the controller's. */
export function recordColorPatch(annotations: Record<string, string | null>, finalizers?: readonly string[]) {
  return { metadata: { ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}), ...(finalizers ? { finalizers: [...finalizers] } : {}) } };
}

/** Deployment: its color serves again, so the drain stamp goes. */
export function clearDrainStartedPatch() {
  return { metadata: { annotations: { [ANNOTATION_DRAIN_STARTED]: null } } };
}

/**
 * Deployment: publish its color's drain forecast. Metadata only: the guard's matchCondition and
 * guard-request.ts let an update that neither lowers replicas nor changes the template through.
 */
export function drainForecastPatch(value: string) {
  return { metadata: { annotations: { [ANNOTATION_DRAIN_FORECAST]: value } } };
}

/** Deployment: its color is no longer draining, so its forecast goes. */
export function clearDrainForecastPatch() {
  return { metadata: { annotations: { [ANNOTATION_DRAIN_FORECAST]: null } } };
}

/** Deployment: tells the delete guard that this delete is past max-drain. */
export function forceDeletePatch() {
  return { metadata: { annotations: { [ANNOTATION_FORCE_DELETE]: 'true' } } };
}

/** The controller's finalizer for a delete of `reason` (contract.ts FINALIZER_DELETED_PREFIX). */
export const deletedFinalizer = (reason: Of<'delete'>['reason']) => `${FINALIZER_DELETED_PREFIX}${reason}`;

/**
 * Deployment, right before the controller deletes it: its finalizer (so that the Deleted Event is
 * recorded even if this process dies right after the delete), and force-delete past max-drain, in
 * one patch guarded by the resourceVersion the planner read.
 */
export function beforeDeletePatch(a: Pick<Of<'delete'>, 'reason' | 'force' | 'finalizers' | 'resourceVersion'>) {
  return {
    metadata: {
      ...precondition(a.resourceVersion),
      finalizers: [...(a.finalizers ?? []), deletedFinalizer(a.reason)],
      ...(a.force ? { annotations: { [ANNOTATION_FORCE_DELETE]: 'true' } } : {}),
    },
  };
}

/** Deployment: its finalizers without the controller's (a merge patch replaces the list). */
export function finalizersPatch(finalizers: readonly string[]) {
  return { metadata: { finalizers: [...finalizers] } };
}

/** Pod: its deletion cost, so that a scale-down removes the pods with the fewest connections first. */
export function deletionCostPatch(cost: number) {
  return { metadata: { annotations: { [ANNOTATION_POD_DELETION_COST]: String(cost) } } };
}

/** Deployment: scale a draining color down, remembering its replicas before the first shrink. */
export function shrinkPatch(a: Pick<Of<'shrink'>, 'to' | 'shrunkFrom' | 'resourceVersion'>) {
  return {
    metadata: { ...precondition(a.resourceVersion), annotations: { [ANNOTATION_SHRUNK_FROM]: String(a.shrunkFrom) } },
    spec: { replicas: a.to },
  };
}

/** Deployment: give a shrunk color its replicas back (spec only when they differ) and drop shrunk-from. */
export function restoreReplicasPatch(a: Pick<Of<'restore-replicas'>, 'from' | 'to' | 'resourceVersion'>) {
  return {
    metadata: { ...precondition(a.resourceVersion), annotations: { [ANNOTATION_SHRUNK_FROM]: null } },
    ...(a.to !== a.from ? { spec: { replicas: a.to } } : {}),
  };
}

// --- carrying out ----------------------------------------------------------------------------------

export interface ActuatorDeps {
  api: ControllerApi;
  events: EventRecorder;
  log: Logger;
  metrics?: ControllerMetrics;
  now: () => Date;
  /** Checked before every further write of a multi-write action. */
  isLeader: () => boolean;
  isStopped: () => boolean;
  /** Pods patched at once. */
  concurrency: number;
  /** How long a refused delete waits before it is tried again. */
  deleteRetryMs: number;
}

export interface Actuator {
  /** Carries out one action; throws what a write threw unless the action handles it itself. */
  act(ctx: AppContext, action: WriteAction, colors: AppColors): Promise<void>;
}

export function createActuator(deps: ActuatorDeps): Actuator {
  const { api, events, metrics, now, isLeader } = deps;

  const promote = async (ctx: AppContext, a: Of<'promote'>, l: Logger): Promise<void> => {
    await api.patchService(ctx.namespace, a.service, promotePatch(a));
    metrics?.promotions.inc();
    const message = `Service ${a.service} now routes to color ${a.to}${a.from ? ` (was ${a.from})` : ''}: Deployment ${a.deployment.name} is Available`;
    l.info({ service: a.service, from: a.from, to: a.to }, 'promoted');
    await Promise.all([
      events.record({ target: a.deployment, type: 'Normal', reason: 'Promoted', message, action: 'Promote' }),
      events.record({ target: { kind: 'Service', name: a.service, namespace: ctx.namespace }, type: 'Normal', reason: 'Promoted', message, action: 'Promote' }),
    ]);
  };

  const clearPending = async (ctx: AppContext, a: Of<'clear-pending'>, l: Logger): Promise<void> => {
    await api.patchService(ctx.namespace, a.service, clearPendingPatch(a));
    l.info({ service: a.service, color: a.color }, `removed ${ANNOTATION_PENDING_COLOR}: the Service already routes to it`);
  };

  const stampDrainStarted = async (ctx: AppContext, a: Of<'stamp-drain-started'>, colors: AppColors, l: Logger): Promise<void> => {
    const value = formatDrainStarted(a.at);
    await api.patchDeployment(ctx.namespace, a.deployment.name, drainStartedPatch(a.at, a.annotations));
    const st = colors.settings;
    const kept = colors.colors.find((c) => c.color === a.color)?.state === 'kept';
    const then = kept
      ? a.uninstalled
        ? `Its app is uninstalled; it is kept (${ANNOTATION_ON_UNINSTALL}: keep).`
        : `It is kept for rollback (keep-colors ${st.keepColors}) until newer colors replace it.`
      : `${a.uninstalled ? 'Its app is uninstalled, so nothing is kept for rollback: it' : 'It'} is deleted once it has read 0 connections for ${formatDuration(st.drainGraceSeconds)}, or after max-drain ${formatDuration(st.maxDrainSeconds)} at the latest.`;
    l.info({ color: a.color, deployment: a.deployment.name, drainStarted: value, uninstalled: a.uninstalled }, 'drain started');
    await events.record({ target: a.deployment, type: 'Normal', reason: 'DrainStarted', message: `color ${a.color} serves no Service since ${value}. ${then}`, action: 'Drain' });
  };

  const recordColor = async (ctx: AppContext, a: Of<'record-color'>, l: Logger): Promise<void> => {
    if (!(await patchUnlessGone(ctx, a.deployment.name, recordColorPatch(a.annotations, a.finalizers)))) return;
    l.debug({ color: a.color, deployment: a.deployment.name, annotations: a.annotations }, 'recorded on the Deployment');
  };

  const announceUninstall = async (ctx: AppContext, a: Of<'announce-uninstall'>, l: Logger): Promise<void> => {
    if (!firstAnnouncement(ctx.dedupe, `${a.deployment.uid ?? a.deployment.name}:${a.key}`, now().getTime())) return;
    l.info({ color: a.color, deployment: a.deployment.name }, a.message);
    await events.record({ target: a.deployment, type: 'Normal', reason: 'AppUninstalled', message: a.message, action: 'Drain', key: a.key });
  };

  const clearDrainStarted = async (ctx: AppContext, a: Of<'clear-drain-started'>, l: Logger): Promise<void> => {
    await api.patchDeployment(ctx.namespace, a.deployment.name, clearDrainStartedPatch());
    l.info({ color: a.color, deployment: a.deployment.name, was: a.value }, `color serves again: removed ${ANNOTATION_DRAIN_STARTED}`);
  };

  /** A Deployment deleted meanwhile has nothing left to write on: false instead of a 404. */
  const patchUnlessGone = async (ctx: AppContext, name: string, patch: object): Promise<boolean> => {
    try {
      await api.patchDeployment(ctx.namespace, name, patch);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  };

  const writeDrainForecast = async (ctx: AppContext, a: Of<'write-drain-forecast'>, l: Logger): Promise<void> => {
    if (!(await patchUnlessGone(ctx, a.deployment.name, drainForecastPatch(a.value)))) return;
    l.debug({ color: a.color, deployment: a.deployment.name, forecast: a.value }, 'drain forecast published');
  };

  const clearDrainForecast = async (ctx: AppContext, a: Of<'clear-drain-forecast'>, l: Logger): Promise<void> => {
    if (!(await patchUnlessGone(ctx, a.deployment.name, clearDrainForecastPatch()))) return;
    l.debug({ color: a.color, deployment: a.deployment.name, was: a.value }, `color is not draining: removed ${ANNOTATION_DRAIN_FORECAST}`);
  };

  const announceDrainForecast = async (ctx: AppContext, a: Of<'announce-drain-forecast'>, l: Logger): Promise<void> => {
    if (!firstAnnouncement(ctx.dedupe, `${a.deployment.uid ?? a.deployment.name}:drain-forecast`, now().getTime())) return;
    l.info({ color: a.color, deployment: a.deployment.name }, a.message);
    await events.record({ target: a.deployment, type: 'Normal', reason: 'DrainForecast', message: a.message, action: 'Drain', key: 'drain-forecast' });
  };

  const restoreReplicas = async (ctx: AppContext, a: Of<'restore-replicas'>, l: Logger): Promise<void> => {
    await api.patchDeployment(ctx.namespace, a.deployment.name, restoreReplicasPatch(a));
    if (a.to !== a.from) metrics?.restores.inc();
    l.info({ color: a.color, deployment: a.deployment.name, from: a.from, to: a.to }, a.message);
    if (a.to !== a.from) await events.record({ target: a.deployment, type: 'Normal', reason: 'Restored', message: a.message, action: 'Scale' });
  };

  /** Every listed pod's deletion cost, in parallel (bounded); a pod gone meanwhile is skipped. */
  const setDeletionCosts = async (ctx: AppContext, a: Of<'set-deletion-cost'>, l: Logger): Promise<void> => {
    const queue = [...a.pods];
    const failures: string[] = [];
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        if (!isLeader() || deps.isStopped()) return;
        try {
          await api.patchPod(ctx.namespace, p.name, deletionCostPatch(p.cost));
        } catch (err) {
          if (statusOf(err) !== 404) failures.push(`${p.name}: ${apiErrorMessage(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, a.pods.length) }, worker));
    l.debug({ color: a.color, pods: a.pods.map((p) => `${p.name}=${p.cost}`), failed: failures.length }, 'pod deletion costs written');
    if (failures.length > 0) {
      metrics?.reconcileErrors.inc();
      l.warn({ color: a.color, err: failures.slice(0, 5).join('; '), failed: failures.length }, 'could not write pod deletion costs; the shrink waits for them');
    }
  };

  const shrink = async (ctx: AppContext, a: Of<'shrink'>, l: Logger): Promise<void> => {
    const id = a.deployment.uid ?? a.deployment.name;
    try {
      await api.patchDeployment(ctx.namespace, a.deployment.name, shrinkPatch(a));
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
      // One key per color, not per message: the guard's message changes with every count.
      if (announcementDue(ctx.dedupe, `${id}:shrink-refused`, now().getTime())) {
        await events.record({ target: a.deployment, type: 'Warning', reason: 'ShrinkRefused', message: `scaling Deployment ${a.deployment.name} from ${a.from} to ${a.to} replicas failed: ${why}`, action: 'Scale' });
      }
      return;
    }
    metrics?.shrinks.inc();
    metrics?.shrinkRemovedPods.inc(a.from - a.to);
    l.info({ color: a.color, deployment: a.deployment.name, from: a.from, to: a.to, connections: a.connections }, a.message);
    await events.record({ target: a.deployment, type: 'Normal', reason: 'Shrunk', message: a.message, action: 'Scale' });
  };

  const deleteColor = async (ctx: AppContext, a: Of<'delete'>, l: Logger): Promise<void> => {
    const ns = ctx.namespace;
    const id = a.deployment.uid ?? a.deployment.name;
    const hold = ctx.holdDeletes.get(id);
    const t = now().getTime();
    if (hold !== undefined && hold > t) return;
    ctx.holdDeletes.delete(id);

    // Once per Deployment, across restarts too (the Event's name is derived from the Deployment's uid).
    const announce = async (reason: EventReason, type: EventType, message: string) => {
      if (firstAnnouncement(ctx.dedupe, `${id}:${reason}`, t)) await events.record({ target: a.deployment, type, reason, message, action: 'Delete', key: reason });
    };
    try {
      await api.patchDeployment(ns, a.deployment.name, beforeDeletePatch(a));
    } catch (err) {
      const code = statusOf(err);
      if (code === 404 || code === 409) return; // gone, or changed since it was read: decided again at the next round
      throw err;
    }
    if (a.force) {
      l.warn({ color: a.color, deployment: a.deployment.name }, a.message);
      await announce('DrainDeadlineExceeded', 'Warning', a.message);
    } else {
      await announce('Drained', 'Normal', a.message);
    }
    const letGo = () => patchUnlessGone(ctx, a.deployment.name, finalizersPatch(a.finalizers ?? [])).catch((e: unknown) => l.warn({ color: a.color, err: apiErrorMessage(e) }, 'could not remove the controller\'s finalizer; the next reconcile does'));
    if (!isLeader()) return void (await letGo());
    try {
      await api.deleteDeployment(ns, a.deployment.name, a.deployment.uid);
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return; // already gone
      await letGo();
      if (code === 409) return; // another incarnation: the watch will tell
      metrics?.reconcileErrors.inc();
      const why = apiErrorMessage(err);
      ctx.holdDeletes.set(id, t + deps.deleteRetryMs);
      // Connections appeared (or a pod could not be asked): the color must read 0 for drain-grace
      // again, and so must it for a controller started after this one.
      const obs = ctx.observations.get(a.color);
      if (obs) ctx.observations.set(a.color, { ...obs, zeroSince: undefined });
      if (!a.force) await patchUnlessGone(ctx, a.deployment.name, recordColorPatch({ [ANNOTATION_ZERO_SINCE]: null })).catch((e: unknown) => l.warn({ color: a.color, err: apiErrorMessage(e) }, `could not remove ${ANNOTATION_ZERO_SINCE}`));
      const denied = isAdmissionDenial(err);
      l.warn({ color: a.color, deployment: a.deployment.name, code, err: why }, denied ? 'delete refused by the guard; retrying at a later drain check' : 'delete failed; retrying');
      // One Event per refusal reason and window, not one per drain check.
      if (announcementDue(ctx.dedupe, `${id}:refused:${why.slice(0, 200)}`, t)) {
        await events.record({ target: a.deployment, type: 'Warning', reason: denied ? 'DeleteRefused' : 'DeleteFailed', message: `deleting Deployment ${a.deployment.name} (${a.reason}) failed: ${why}`, action: 'Delete' });
      }
      return;
    }
    metrics?.deletions.inc({ reason: a.reason });
    ctx.observations.delete(a.color);
    ctx.holdDeletes.delete(id);
    l.info({ color: a.color, deployment: a.deployment.name, reason: a.reason }, 'deleted');
    await finishDelete(ctx, { type: 'finish-delete', color: a.color, deployment: a.deployment, reason: a.reason, finalizers: a.finalizers ?? [] }, l);
  };

  /** The Deleted Event (once per Deployment, whichever process gets here), then the finalizer goes and the Deployment with it. */
  const finishDelete = async (ctx: AppContext, a: Of<'finish-delete'>, l: Logger): Promise<void> => {
    const id = a.deployment.uid ?? a.deployment.name;
    if (firstAnnouncement(ctx.dedupe, `${id}:Deleted`, now().getTime())) {
      await events.record({
        target: a.deployment,
        type: 'Normal',
        reason: 'Deleted',
        message: `Deployment ${a.deployment.name} (color ${a.color}) deleted: ${a.reason === 'drained' ? 'drained' : 'past max-drain'}`,
        action: 'Delete',
        key: 'Deleted',
      });
    }
    if (await patchUnlessGone(ctx, a.deployment.name, finalizersPatch(a.finalizers))) l.debug({ color: a.color, deployment: a.deployment.name }, 'finalizer removed');
    forgetAnnouncements(ctx.dedupe, id);
  };

  return {
    async act(ctx, a, colors) {
      const l = deps.log.child({ namespace: ctx.namespace, app: ctx.app });
      switch (a.type) {
        case 'promote':
          return promote(ctx, a, l);
        case 'clear-pending':
          return clearPending(ctx, a, l);
        case 'stamp-drain-started':
          return stampDrainStarted(ctx, a, colors, l);
        case 'clear-drain-started':
          return clearDrainStarted(ctx, a, l);
        case 'record-color':
          return recordColor(ctx, a, l);
        case 'announce-uninstall':
          return announceUninstall(ctx, a, l);
        case 'delete':
          return deleteColor(ctx, a, l);
        case 'finish-delete':
          return finishDelete(ctx, a, l);
        case 'set-deletion-cost':
          return setDeletionCosts(ctx, a, l);
        case 'shrink':
          return shrink(ctx, a, l);
        case 'restore-replicas':
          return restoreReplicas(ctx, a, l);
        case 'write-drain-forecast':
          return writeDrainForecast(ctx, a, l);
        case 'clear-drain-forecast':
          return clearDrainForecast(ctx, a, l);
        case 'announce-drain-forecast':
          return announceDrainForecast(ctx, a, l);
      }
    },
  };
}
