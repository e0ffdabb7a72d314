// The controller's decisions for one app, pure: given its colors' states (domain/color-states.ts,
// which `rainbow status` shows too), say what to do. No I/O, no clock: loop.ts reads, asks pods
// and writes.
//
// Rules:
//  - promote: a Service's rainbow.dev/pending-color whose Deployment is Available becomes its
//    selector color, and the annotation goes;
//  - a color that serves no Service and is pending for none is "previous"; it gets
//    rainbow.dev/drain-started once (stamp first, nothing else happens to an unstamped color);
//  - the newest `keep-colors` previous colors (by creation time) are kept, whatever they read;
//  - any other previous color is deleted once it has read 0 connections continuously for
//    drain-grace, counted from the later of "first read 0" and drain-started (clients may still
//    connect through stale endpoints right after the switch); a color whose pods cannot all be
//    asked never counts as 0;
//  - past max-drain (drain-started + max-drain <= now) it is deleted anyway, forced;
//  - shrink (on unless a Service says rainbow.dev/shrink: "false"): in a drain round, every counted pod of such a color gets the deletion cost of its
//    connection count; once drain-grace has passed since drain-started, a color that still holds
//    connections is scaled down to the pods that hold them (at least 1), but only when every pod
//    was counted in this round, the Deployment is settled, and removal-order.ts's scaleDownSafety
//    (the guard's own rule) says that by the costs already written (rounds ago: the API server
//    and the guard's pod cache have them) no connected pod can be among the pods removed (or to
//    the fewest replicas it says so for, see shrinkSteps). A color that read 0 everywhere is not
//    shrunk: it is deleted as above.
// A serving or pending color is never touched, and loses a stale drain-started (a rollback to an
// old color must not inherit its old max-drain clock). A shrunk color (rainbow.dev/shrunk-from)
// that serves, is pending or is kept again gets its replicas back.
// What a restart must not forget lives on the color's Deployment, written sparingly (record-color,
// at most one patch per color per reconcile, and only when a value changes):
//  - rainbow.dev/served-at, once, when a color is first seen serving;
//  - rainbow.dev/drain-settings, on every color that is not new while the app has a Service, when
//    they differ from the app's (so: once per color, and again after a settings change);
//  - rainbow.dev/zero-since, on a draining or drained color in a drain round, when a 0-streak
//    starts (rounded up to the second) and removed when it ends; never on other colors;
//  - rainbow.dev/no-service-since, on every color of an app that served and has no Service,
//    removed when a Service is back.
// Uninstall: an app that served and has had no Service for the uninstall grace drains like any
// previous color (stamped at no-service-since, counted, deleted once drained or at max-drain, none
// kept), with an AppUninstalled Event per color.
// Drain forecasts (planForecasts, drain rounds only): a draining color's forecast is published on
// its Deployment (rainbow.dev/drain-forecast) when forecastWorthWriting says it moved enough, and
// announced once it first has an estimate; any other color loses the annotation.
import type { V1Deployment } from '@kubernetes/client-node';
import {
  FINALIZER_DELETED_PREFIX,
  ANNOTATION_DRAIN_FORECAST,
  ANNOTATION_DRAIN_SETTINGS,
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_NO_SERVICE_SINCE,
  ANNOTATION_ON_UNINSTALL,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_SERVED_AT,
  ANNOTATION_SHRUNK_FROM,
  ANNOTATION_ZERO_SINCE,
} from '../domain/contract.js';
import { formatDrainSettings } from '../domain/drain-settings.js';
import { appOf, colorOfService, deploymentOfColor, desiredReplicas, isDeploymentAvailable, shrunkFrom } from '../domain/availability.js';
import { formatDuration } from '../domain/durations.js';
import { forecastDrain, formatForecast, roughly, type ConnectionSample, type DrainForecast } from '../domain/drain-forecast.js';
import { formatForecastAnnotation, parseForecastAnnotation, publishForecast, type PublishedForecast } from '../domain/forecast-annotation.js';
import { annotationOf } from '../domain/objects.js';
import { scaleDownSafety } from '../domain/removal-order.js';
import {
  ceilToSecond,
  colorStates,
  deploymentRef,
  formatDrainStarted,
  parseDrainStarted,
  serviceName,
  FUTURE_TOLERANCE_MS,
  type AppColors,
  type AppSettings,
  type ColorStatus,
  type DeploymentRef,
  type PlanInput,
} from '../domain/color-states.js';

export type DeleteReason = 'drained' | 'max-drain';

export type Action =
  /** Switch `service` to `to` and drop rainbow.dev/pending-color; `from` is its color until now. */
  | { type: 'promote'; service: string; resourceVersion?: string; from?: string; to: string; deployment: DeploymentRef }
  /** rainbow.dev/pending-color names the color the Service already serves: drop the annotation. */
  | { type: 'clear-pending'; service: string; resourceVersion?: string; color: string }
  /**
   * Write rainbow.dev/drain-started=`at` (RFC 3339); `replaces` is an unusable value being
   * overwritten; `annotations`, the color's record-color written in the same patch; `uninstalled`:
   * the color drains because its app was uninstalled.
   */
  | { type: 'stamp-drain-started'; color: string; deployment: DeploymentRef; at: Date; replaces?: string; annotations?: Record<string, string | null>; uninstalled?: boolean }
  /** Write (or, null, remove) the controller's own annotations on a color's Deployment: what a restart must not forget. */
  | { type: 'record-color'; color: string; deployment: DeploymentRef; annotations: Record<string, string | null>; finalizers?: string[] }
  /** The color's app is uninstalled and the color drains (or is kept): an AppUninstalled Event, once per color and uninstall (`key`). */
  | { type: 'announce-uninstall'; color: string; deployment: DeploymentRef; key: string; message: string }
  /** A serving or pending color carries a drain-started from an earlier time out of service: drop it. */
  | { type: 'clear-drain-started'; color: string; deployment: DeploymentRef; value: string }
  /**
   * Delete the color's Deployment; `force`: set rainbow.dev/force-delete=true first. `finalizers`
   * are its finalizers as read (with `resourceVersion`): the controller adds its own
   * (FINALIZER_DELETED_PREFIX + reason) in the same patch, and removes it once the Deleted Event is recorded.
   */
  | { type: 'delete'; color: string; deployment: DeploymentRef; reason: DeleteReason; force: boolean; message: string; connections?: number; finalizers?: string[]; resourceVersion?: string }
  /** A Deployment the controller deleted and is `deleting` with its finalizer: record the Deleted Event (once), then let it go (`finalizers`: the rest). */
  | { type: 'finish-delete'; color: string; deployment: DeploymentRef; reason: DeleteReason; finalizers: string[] }
  /** Ask this color's pods for their connections in this round. */
  | { type: 'ask-pods'; color: string; deployment: DeploymentRef }
  /** Write controller.kubernetes.io/pod-deletion-cost on these pods of a draining color (their connection counts). */
  | { type: 'set-deletion-cost'; color: string; deployment: DeploymentRef; pods: Array<{ name: string; cost: number }> }
  /**
   * Scale a draining color from `from` to `to` replicas (the pods that hold connections) and write
   * rainbow.dev/shrunk-from=`shrunkFrom` (its replicas before the first shrink) in the same patch.
   */
  | {
      type: 'shrink';
      color: string;
      deployment: DeploymentRef;
      resourceVersion?: string;
      from: number;
      to: number;
      shrunkFrom: number;
      connections: number;
      message: string;
    }
  /** A shrink that is due but not safe or not sure yet; the loop logs it (debug) and the next round decides again. */
  | { type: 'shrink-held'; color: string; deployment: DeploymentRef; from: number; to: number; reason: string }
  /** A shrunk color serves, is pending or is kept again: spec.replicas back to `to` (shrunk-from), and the annotation goes. */
  | { type: 'restore-replicas'; color: string; deployment: DeploymentRef; resourceVersion?: string; from: number; to: number; message: string }
  /** Write rainbow.dev/drain-forecast=`value` (forecast-annotation.ts) on a draining color's Deployment. */
  | { type: 'write-drain-forecast'; color: string; deployment: DeploymentRef; value: string }
  /** A color that is not draining carries rainbow.dev/drain-forecast: drop it. */
  | { type: 'clear-drain-forecast'; color: string; deployment: DeploymentRef; value: string }
  /** A draining color has an estimate; the actuator announces it once per color (DrainForecast Event). */
  | { type: 'announce-drain-forecast'; color: string; deployment: DeploymentRef; message: string }
  /** Something a human should fix (bad annotation, odd clock); the loop logs it once. */
  | { type: 'warn'; message: string; deployment?: DeploymentRef };

/** What to do for one app now; the order is the order to act in. */
export function planApp(input: PlanInput): Action[] {
  return planAppDetailed(input).actions;
}

/** planApp with the states it was computed from (the loop uses both; `status` only the states). */
export function planAppDetailed(input: PlanInput): { actions: Action[]; colors: AppColors } {
  const { app, namespace } = input;
  const services = input.services.filter((s) => appOf(s) === app);
  const deployments = input.deployments.filter((d) => appOf(d) === app);
  const colors = colorStates(input);
  const actions: Action[] = colors.warnings.map((message) => ({ type: 'warn', message }));

  // 1. Promotions: fast path, decided from the Services and the pending color's Deployment only.
  for (const s of services) {
    const pendingColor = annotationOf(s, ANNOTATION_PENDING_COLOR)?.trim();
    if (!pendingColor) continue;
    const rv = s.metadata?.resourceVersion;
    const current = colorOfService(s);
    if (pendingColor === current) {
      actions.push({ type: 'clear-pending', service: serviceName(s), color: pendingColor, ...(rv ? { resourceVersion: rv } : {}) });
      continue;
    }
    const d = deploymentOfColor(deployments, app, pendingColor);
    if (!d || !isDeploymentAvailable(d)) continue;
    const a: Action = { type: 'promote', service: serviceName(s), to: pendingColor, deployment: deploymentRef(d, namespace) };
    if (current) a.from = current;
    if (rv) a.resourceVersion = rv;
    actions.push(a);
  }

  // 2. Per color: stamps, stale stamps, probes and deletions, then what to record on it.
  for (const c of colors.colors) {
    const d = c.deployment ? deploymentOfColor(deployments, app, c.color) : undefined;
    if (!d || !c.deployment) continue;
    const ours = (d.metadata?.finalizers ?? []).filter((f) => f.startsWith(FINALIZER_DELETED_PREFIX));
    const rest = (d.metadata?.finalizers ?? []).filter((f) => !f.startsWith(FINALIZER_DELETED_PREFIX));
    if (c.state === 'deleting') {
      const reason = ours.map((f) => f.slice(FINALIZER_DELETED_PREFIX.length)).find((r): r is DeleteReason => r === 'drained' || r === 'max-drain');
      if (reason) actions.push({ type: 'finish-delete', color: c.color, deployment: c.deployment, reason, finalizers: rest });
      continue;
    }
    // A finalizer left by a delete that did not happen (refused, and the controller stopped before removing it).
    if (ours.length > 0) actions.push({ type: 'record-color', color: c.color, deployment: c.deployment, annotations: {}, finalizers: rest });
    // The writes guarded by the resourceVersion read (restore, shrink, delete) go first: any other
    // write of the Deployment before them would move it. Nothing is tidied on a color that goes now.
    const steps = colorSteps({ ...c, deployment: c.deployment }, d, colors, input);
    const deleting = steps.some((a) => a.type === 'delete');
    const guarded = (a: Action) => (a.type === 'announce-uninstall' ? 0 : 'resourceVersion' in a && a.resourceVersion !== undefined ? 1 : 2);
    const own = steps.filter((a) => !(deleting && a.type === 'clear-drain-forecast')).sort((a, b) => guarded(a) - guarded(b));
    const record = recordFor(c, d, colors, input);
    const stamp = own.find((a): a is Extract<Action, { type: 'stamp-drain-started' }> => a.type === 'stamp-drain-started');
    if (record && stamp) stamp.annotations = record;
    else if (record && !own.some((a) => a.type === 'delete')) own.push({ type: 'record-color', color: c.color, deployment: c.deployment, annotations: record });
    actions.push(...own);
  }
  return { actions, colors };
}

/**
 * The annotations to write on a color's Deployment so that a restarted controller decides as this
 * one would (see the header); undefined when nothing changes.
 */
function recordFor(c: ColorStatus, d: V1Deployment, colors: AppColors, input: PlanInput): Record<string, string | null> | undefined {
  const out: Record<string, string | null> = {};
  const has = (k: string) => annotationOf(d, k) !== undefined;
  if (c.state === 'serving' && !c.servedAt && colors.unselectiveServices.length === 0) out[ANNOTATION_SERVED_AT] = formatDrainStarted(input.now);
  if (!colors.noService && c.state !== 'new') {
    const settings = formatDrainSettings(colors.settings);
    if (annotationOf(d, ANNOTATION_DRAIN_SETTINGS) !== settings) out[ANNOTATION_DRAIN_SETTINGS] = settings;
  }
  if (colors.uninstall) {
    if (!has(ANNOTATION_NO_SERVICE_SINCE)) out[ANNOTATION_NO_SERVICE_SINCE] = formatDrainStarted(colors.uninstall.noServiceSince);
  } else if (!colors.noService && has(ANNOTATION_NO_SERVICE_SINCE)) {
    out[ANNOTATION_NO_SERVICE_SINCE] = null;
  }
  const onTheWayOut = c.state === 'draining' || c.state === 'drained';
  if (!onTheWayOut) {
    if (has(ANNOTATION_ZERO_SINCE)) out[ANNOTATION_ZERO_SINCE] = null;
  } else if (input.drainRound && c.observation) {
    const zero = c.observation.unknown === undefined && c.observation.lastCount === 0 ? c.observation.zeroSince : undefined;
    const value = zero ? formatDrainStarted(ceilToSecond(zero)) : undefined;
    if (value !== undefined && annotationOf(d, ANNOTATION_ZERO_SINCE) !== value) out[ANNOTATION_ZERO_SINCE] = value;
    if (value === undefined && has(ANNOTATION_ZERO_SINCE)) out[ANNOTATION_ZERO_SINCE] = null;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** One color's steps: probe, stamp or clear drain-started, restore, delete, shrink. */
function colorSteps(c: ColorStatus & { deployment: DeploymentRef }, d: V1Deployment, colors: AppColors, input: PlanInput): Action[] {
  const { now } = input;
  const { settings } = colors;
  const actions: Action[] = [];
  const uninstalled = colors.uninstall?.uninstalled === true;
  {
    const raw = annotationOf(d, ANNOTATION_DRAIN_STARTED);
    const ds = parseDrainStarted(raw);

    actions.push({ type: 'ask-pods', color: c.color, deployment: c.deployment });

    const forecast = annotationOf(d, ANNOTATION_DRAIN_FORECAST);
    if (forecast !== undefined && c.state !== 'draining') actions.push({ type: 'clear-drain-forecast', color: c.color, deployment: c.deployment, value: forecast });

    if (c.state === 'new') return actions; // not released yet: counted, never stamped or deleted
    if (c.state === 'serving' || c.state === 'pending') {
      // The restore first: it carries the resourceVersion read, which any other write would move.
      const back = restoreStep(c, d);
      if (back) actions.push(back);
      if (raw !== undefined && colors.unselectiveServices.length === 0) {
        actions.push({ type: 'clear-drain-started', color: c.color, deployment: c.deployment, value: raw });
      }
      return actions;
    }
    // Previous colors (kept, draining, drained). Without a Service nothing is known to serve,
    // unless the app is uninstalled.
    if (colors.noService && !uninstalled) return actions;
    if (uninstalled) {
      const since = formatDrainStarted(colors.uninstall!.noServiceSince);
      const then =
        c.state === 'kept'
          ? `is kept (${ANNOTATION_ON_UNINSTALL}: keep)`
          : `drains like a previous color, none kept: deleted once it has read 0 connections for ${formatDuration(settings.drainGraceSeconds)}, or after max-drain ${formatDuration(settings.maxDrainSeconds)} at the latest`;
      actions.push({
        type: 'announce-uninstall',
        color: c.color,
        deployment: c.deployment,
        key: `uninstalled:${since}`,
        message: `app ${colors.app} is uninstalled: no Service labelled rainbow.dev/app=${colors.app} since ${since}; color ${c.color} ${then}`,
      });
    }

    if (!ds.at) {
      // An uninstalled app's colors stopped serving when its last Service went.
      const at = uninstalled && !ds.malformed ? colors.uninstall!.noServiceSince : now;
      const stamp: Action = { type: 'stamp-drain-started', color: c.color, deployment: c.deployment, at, ...(uninstalled ? { uninstalled: true } : {}) };
      if (ds.malformed) {
        stamp.replaces = raw;
        actions.push({
          type: 'warn',
          deployment: c.deployment,
          message: `Deployment ${c.deployment.name}: ${ANNOTATION_DRAIN_STARTED}=${JSON.stringify(raw)} is not an RFC 3339 time; restamping it with the current time (its max-drain clock restarts)`,
        });
      }
      actions.push(stamp);
      return actions; // stamp first; decide on a later round
    }
    if (ds.at.getTime() - now.getTime() > FUTURE_TOLERANCE_MS) {
      actions.push({
        type: 'warn',
        deployment: c.deployment,
        message: `Deployment ${c.deployment.name}: ${ANNOTATION_DRAIN_STARTED}=${raw} is in the future (clock skew?); it is not deleted before that time plus drain-grace`,
      });
    }
    if (c.state === 'kept') {
      const back = restoreStep(c, d);
      if (back) actions.push(back);
      return actions;
    }

    if (c.state === 'drained' && c.deletableAt && c.deletableAt.getTime() <= now.getTime()) {
      const since = new Date(c.deletableAt.getTime() - settings.drainGraceSeconds * 1000);
      actions.push({
        type: 'delete',
        color: c.color,
        deployment: c.deployment,
        reason: 'drained',
        force: false,
        connections: 0,
        ...finalizersOf(d),
        message: `color ${c.color} has read 0 established connections since ${formatDrainStarted(since)} (drain-grace ${formatDuration(settings.drainGraceSeconds)}); deleting Deployment ${c.deployment.name}`,
      });
      return actions;
    }
    if (c.drainDeadline && c.drainDeadline.getTime() <= now.getTime()) {
      const out = (now.getTime() - ds.at.getTime()) / 1000;
      const obs = c.observation;
      const holding =
        obs?.unknown !== undefined
          ? `connections unknown (${obs.unknown})`
          : obs?.lastCount !== undefined
            ? `${obs.lastCount} established connection${obs.lastCount === 1 ? '' : 's'} at the last count`
            : 'connections not counted yet';
      const a: Action = {
        type: 'delete',
        color: c.color,
        deployment: c.deployment,
        reason: 'max-drain',
        force: true,
        ...finalizersOf(d),
        message:
          `color ${c.color} has been out of service since ${raw!.trim()} (${formatDuration(out)}), past max-drain ${formatDuration(settings.maxDrainSeconds)}, ` +
          `with ${holding}; deleting Deployment ${c.deployment.name} anyway (${holding.startsWith('0 ') ? 'nothing to cut' : 'open connections are cut'})`,
      };
      if (obs?.lastCount !== undefined && obs.unknown === undefined) a.connections = obs.lastCount;
      actions.push(a);
      return actions;
    }
    if (input.drainRound) actions.push(...shrinkSteps(c, d, settings, now));
  }
  return actions;
}

/** A delete's view of the Deployment's finalizers, with the resourceVersion they were read at. */
function finalizersOf(d: V1Deployment): { finalizers: string[]; resourceVersion?: string } {
  const rv = d.metadata?.resourceVersion;
  return { finalizers: (d.metadata?.finalizers ?? []).filter((f) => !f.startsWith(FINALIZER_DELETED_PREFIX)), ...(rv ? { resourceVersion: rv } : {}) };
}

/** The deletion cost the controller writes for a pod with `connections` (an int32, as Kubernetes reads it). */
export function deletionCostFor(connections: number): number {
  return Math.min(Math.max(0, Math.floor(connections)), 2 ** 31 - 1);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A color that serves, is pending or is kept, and that the controller shrank while it drained:
 * its replicas go back to rainbow.dev/shrunk-from, and the annotation goes (only the annotation
 * when something else, e.g. `helm rollback`, has already scaled it back).
 */
function restoreStep(c: ColorStatus, d: V1Deployment): Action | undefined {
  const to = shrunkFrom(d);
  if (!c.deployment || annotationOf(d, ANNOTATION_SHRUNK_FROM) === undefined) return undefined;
  const from = desiredReplicas(d);
  const why = c.state === 'kept' ? 'is kept for rollback' : c.state === 'pending' ? 'is pending again' : 'serves again';
  const rv = d.metadata?.resourceVersion;
  const base = { type: 'restore-replicas' as const, color: c.color, deployment: c.deployment, ...(rv ? { resourceVersion: rv } : {}) };
  if (to === undefined || to <= from) {
    return { ...base, from, to: from, message: `color ${c.color} ${why} with ${plural(from, 'replica')}; removed ${ANNOTATION_SHRUNK_FROM} from Deployment ${c.deployment.name}` };
  }
  return { ...base, from, to, message: `color ${c.color} ${why}: scaled Deployment ${c.deployment.name} back from ${from} to ${to} replicas (its ${ANNOTATION_SHRUNK_FROM})` };
}

/**
 * Deletion costs, and the shrink, of a previous color that is not kept, in a drain round.
 *
 * Costs are written whenever a counted pod's cost differs from its count. The shrink is decided
 * on the costs as listed at the start of the round, never on the ones this round writes: those
 * are what the API server holds, what the ReplicaSet controller will rank by and what the guard's
 * pod cache has seen (they were written a round or more ago). When scaleDownSafety says they make
 * every connected pod outrank the pods to remove, the color is scaled to the pods that hold
 * connections; when they do that only for fewer pods (a pod that has just emptied still carries
 * its old cost), to the fewest replicas they make safe (minSafeReplicas), if that is below the
 * replicas now; else the round only writes the costs and the next one decides again.
 *
 * In a round that scales, only the costs that move an empty pod earlier (down to 0) are written
 * along: whichever of them the ReplicaSet controller or the guard sees first, no connected pod
 * can end up among the pods removed. A connected pod's lower count waits for the next round (a
 * lower cost could let it overtake an empty pod whose new cost has not landed). A color whose
 * counts keep moving (clients leaving every second) thus shrinks as soon as its order allows, not
 * only in a round where no count changed.
 */
function shrinkSteps(c: ColorStatus, d: V1Deployment, settings: AppSettings, now: Date): Action[] {
  const obs = c.observation;
  const deployment = c.deployment;
  if (!settings.shrink || !obs?.pods || !deployment) return [];
  const stale = obs.pods
    .filter((p) => p.connections !== undefined && p.rank.deletionCost !== deletionCostFor(p.connections))
    .map((p) => ({ name: p.name, cost: deletionCostFor(p.connections!), earlierAndEmpty: p.connections === 0 && deletionCostFor(0) < p.rank.deletionCost }));
  const write = (pods: typeof stale): Action[] =>
    pods.length > 0 ? [{ type: 'set-deletion-cost', color: c.color, deployment, pods: pods.map(({ name, cost }) => ({ name, cost })) }] : [];
  const costs = write(stale);

  // A color that read 0 from every pod is deleted after drain-grace, never shrunk.
  if (c.state !== 'draining' || !c.drainStartedAt) return costs;
  if (c.drainStartedAt.getTime() + settings.drainGraceSeconds * 1000 > now.getTime()) return costs;
  const from = desiredReplicas(d);
  const connected = obs.pods.filter((p) => (p.connections ?? 0) > 0);
  const to = Math.max(1, connected.length);
  if (to >= from) return costs;
  const held = (reason: string): Action[] => [...costs, { type: 'shrink-held', color: c.color, deployment, from, to, reason }];

  if (obs.unknown !== undefined) return held(`connections unknown: ${obs.unknown}`);
  const uncounted = obs.pods.find((p) => p.connections === undefined);
  if (uncounted) return held(`pod ${uncounted.name} was not counted (${uncounted.unknown ?? 'no count'})`);
  const st = d.status ?? {};
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || (st.replicas ?? 0) !== from || (st.updatedReplicas ?? 0) !== from || obs.pods.length !== from) {
    return held(
      `Deployment not settled (spec.replicas ${from}, status.replicas ${st.replicas ?? 0}, updated ${st.updatedReplicas ?? 0}, ` +
        `generation ${d.metadata?.generation ?? 0} observed ${st.observedGeneration ?? 0}, ${plural(obs.pods.length, 'active pod')} at the last count)`,
    );
  }
  const counted = obs.pods.map((p) => ({ rank: p.rank, connections: p.connections! }));
  const safety = scaleDownSafety(counted, to);
  const target = safety.safe ? to : safety.minSafeReplicas;
  if (target >= from) {
    const risk = safety.atRisk.map((p) => `${p.rank.name} (${plural(p.connections, 'connection')})`).join(', ');
    const next = stale.length > 0 ? `; writing ${plural(stale.length, 'deletion cost')} now, deciding again at the next round` : '';
    return held(`scaling to ${to} could remove ${risk}: by the pods' current ranks the ReplicaSet controller is not sure to take the empty ones first (fewest safe replicas ${safety.minSafeReplicas})${next}`);
  }
  const total = connected.reduce((n, p) => n + (p.connections ?? 0), 0);
  const rv = d.metadata?.resourceVersion;
  const rest = target - to;
  return [
    {
      type: 'shrink',
      color: c.color,
      deployment,
      ...(rv ? { resourceVersion: rv } : {}),
      from,
      to: target,
      shrunkFrom: Math.max(shrunkFrom(d) ?? from, from),
      connections: total,
      message:
        `color ${c.color}: ${connected.length} of ${plural(from, 'pod')} still hold connections (${total} established); ` +
        `scaled Deployment ${deployment.name} from ${from} to ${target} replicas` +
        (rest > 0 ? ` (${plural(rest, 'more empty pod')} ${rest === 1 ? 'goes' : 'go'} once ${rest === 1 ? 'its' : 'their'} deletion cost${rest === 1 ? ' is' : 's are'} written)` : ''),
    },
    ...write(stale.filter((p) => p.earlierAndEmpty)),
  ];
}

// --- drain forecasts -------------------------------------------------------------------------------

/** A published forecast is rewritten at most this often, unless its kind changes. */
export const FORECAST_REWRITE_MIN_MS = 5 * 60_000;
/** A bound that moves by more than this is worth rewriting… */
export const FORECAST_SHIFT_MS = 15 * 60_000;
/** …and so is one that moves by more than this share of the time left until it (its later value). */
export const FORECAST_SHIFT_SHARE = 0.1;

/** Whether a bound moved meaningfully; bounds already past count as now. */
function boundMoved(before: Date, after: Date, now: Date): boolean {
  const t = now.getTime();
  const a = Math.max(before.getTime(), t);
  const b = Math.max(after.getTime(), t);
  return Math.abs(a - b) > Math.min(FORECAST_SHIFT_MS, FORECAST_SHIFT_SHARE * (Math.max(a, b) - t));
}

/**
 * Whether `next` is worth writing over the published `previous` (rainbow.dev/drain-forecast): always
 * when nothing readable is published or the kind changes; otherwise not within
 * FORECAST_REWRITE_MIN_MS of the previous one, and then when an unknown's reason changed, a range
 * opened or closed or reached max-drain, or a bound moved by more than FORECAST_SHIFT_MS or
 * FORECAST_SHIFT_SHARE of the time left until it.
 */
export function forecastWorthWriting(previous: PublishedForecast | undefined, next: PublishedForecast, now: Date): boolean {
  if (!previous || previous.kind !== next.kind) return true;
  const age = previous.computedAt ? now.getTime() - previous.computedAt.getTime() : Infinity;
  // A computedAt in the future (another clock) is no reason to wait.
  if (age >= 0 && age < FORECAST_REWRITE_MIN_MS) return false;
  if (previous.kind === 'unknown' || next.kind === 'unknown') return previous.kind === 'unknown' && next.kind === 'unknown' && previous.reason !== next.reason;
  if (Boolean(previous.latest) !== Boolean(next.latest) || previous.deadlineFirst !== next.deadlineFirst) return true;
  return boundMoved(previous.earliest, next.earliest, now) || (previous.latest !== undefined && next.latest !== undefined && boundMoved(previous.latest, next.latest, now));
}

/** The DrainForecast Event's message. */
export function forecastMessage(deployment: string, f: Extract<DrainForecast, { kind: 'estimate' }>, deadline: Date | undefined, now: Date): string {
  const left = `${f.remaining} left`;
  const byDeadline = deadline ? `; max-drain deadline in ${roughly(Math.max(0, (deadline.getTime() - now.getTime()) / 1000), true)}` : '';
  return `drain forecast for ${deployment}: 0 connections ${formatForecast(f, now)} (${left})${byDeadline}`;
}

export interface ForecastInput {
  colors: AppColors;
  /** The app's Deployments, as planned on (their rainbow.dev/drain-forecast is what is published). */
  deployments: readonly V1Deployment[];
  /** Per color, its complete counts (AppContext.series). */
  series: ReadonlyMap<string, readonly ConnectionSample[]>;
  now: Date;
}

export interface ColorForecast {
  color: string;
  deployment: DeploymentRef;
  forecast: DrainForecast;
}

/**
 * In a drain round: the forecast of every draining color that is stamped and not past its max-drain
 * deadline (it is deleted then), with the writes and announcements it calls for. Nothing for an app
 * without a Service, where the controller does nothing.
 */
export function planForecasts(input: ForecastInput): { forecasts: ColorForecast[]; actions: Action[] } {
  const { colors, now } = input;
  const forecasts: ColorForecast[] = [];
  const actions: Action[] = [];
  if (colors.noService && !colors.uninstall?.uninstalled) return { forecasts, actions };
  for (const c of colors.colors) {
    if (c.state !== 'draining' || !c.deployment || !c.drainStartedAt) continue;
    if (c.drainDeadline && c.drainDeadline.getTime() <= now.getTime()) continue;
    const d = deploymentOfColor(input.deployments, colors.app, c.color);
    if (!d) continue;
    const forecast = forecastDrain(input.series.get(c.color) ?? [], now, c.drainDeadline);
    forecasts.push({ color: c.color, deployment: c.deployment, forecast });
    const next = publishForecast(forecast, now);
    if (next && forecastWorthWriting(parseForecastAnnotation(annotationOf(d, ANNOTATION_DRAIN_FORECAST)).forecast, next, now)) {
      actions.push({ type: 'write-drain-forecast', color: c.color, deployment: c.deployment, value: formatForecastAnnotation(next) });
    }
    if (forecast.kind === 'estimate') {
      actions.push({ type: 'announce-drain-forecast', color: c.color, deployment: c.deployment, message: forecastMessage(c.deployment.name, forecast, c.drainDeadline, now) });
    }
  }
  return { forecasts, actions };
}
