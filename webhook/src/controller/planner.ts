// The controller's decisions for one app, pure: given its Services, its Deployments, what the
// controller has seen of each color's connections and the time, say what each color is and what
// to do. No I/O, no clock: loop.ts reads, asks pods and writes; `rainbow status` uses the same
// states so the table and the controller never disagree.
//
// Rules (DESIGN.md, "Cutover" and the controller's issue):
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
//  - shrink (DESIGN "Shrinking a draining color", on unless a Service says rainbow.dev/shrink:
//    "false"): in a drain round, every counted pod of such a color gets the deletion cost of its
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
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_DRAIN_GRACE,
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_KEEP_COLORS,
  ANNOTATION_MAX_DRAIN,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_SHRINK,
  ANNOTATION_SHRUNK_FROM,
  DEFAULTS,
} from '../contract.js';
import {
  appOf,
  colorOfDeployment,
  colorOfService,
  deploymentOfColor,
  desiredReplicas,
  isDeploymentAvailable,
  readServiceSettings,
  shrunkFrom,
} from '../policies/availability.js';
import { formatDuration } from '../policies/durations.js';
import { annotationOf, isBeingDeleted, toDate } from '../policies/objects.js';
import { scaleDownSafety, type RemovalRank } from '../policies/removal-order.js';

/** One active pod of a color at the last probe (removal-order.ts: not terminating, not finished). */
export interface PodObservation {
  name: string;
  /** Its established connections; undefined when it was not counted (see `unknown`). */
  connections?: number;
  /** Why it has no count: it could not be asked, or it is not running yet. */
  unknown?: string;
  /** How the ReplicaSet controller ranks it for removal; `rank.deletionCost` is its cost as read then. */
  rank: RemovalRank;
  /** Its controller.kubernetes.io/pod-deletion-cost annotation as listed, if any. */
  costAnnotation?: string;
}

/** What the loop has seen of a color's connections (kept in memory, per color). */
export interface DrainObservation {
  /** Established connections at the last probe (sum over the pods that answered). */
  lastCount?: number;
  /** Since when every probe read 0 (undefined unless the last probe read 0 from every pod). */
  zeroSince?: Date;
  /** Why the last probe is incomplete: a pod could not be asked, the pods could not be listed. */
  unknown?: string;
  /** When the last probe finished. */
  observedAt?: Date;
  /** The color's active pods at the last probe, with their counts (absent when they could not be listed). */
  pods?: PodObservation[];
}

/**
 * `new`: a color whose Deployment exists but that no Service has selected or asked for yet (a
 * release deployed ahead of its switch); it is never stamped or deleted.
 */
export type ColorState = 'serving' | 'pending' | 'new' | 'draining' | 'drained' | 'kept' | 'deleting';

export interface DeploymentRef {
  name: string;
  namespace: string;
  uid?: string;
}

export type DeleteReason = 'drained' | 'max-drain';

export type Action =
  /** Switch `service` to `to` and drop rainbow.dev/pending-color; `from` is its color until now. */
  | { type: 'promote'; service: string; resourceVersion?: string; from?: string; to: string; deployment: DeploymentRef }
  /** rainbow.dev/pending-color names the color the Service already serves: drop the annotation. */
  | { type: 'clear-pending'; service: string; resourceVersion?: string; color: string }
  /** Write rainbow.dev/drain-started=`at` (RFC 3339); `replaces` is an unusable value being overwritten. */
  | { type: 'stamp-drain-started'; color: string; deployment: DeploymentRef; at: Date; replaces?: string }
  /** A serving or pending color carries a drain-started from an earlier time out of service: drop it. */
  | { type: 'clear-drain-started'; color: string; deployment: DeploymentRef; value: string }
  /** Delete the color's Deployment; `force`: set rainbow.dev/force-delete=true first. */
  | { type: 'delete'; color: string; deployment: DeploymentRef; reason: DeleteReason; force: boolean; message: string; connections?: number }
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
  /** Something a human should fix (bad annotation, odd clock); the loop logs it once. */
  | { type: 'warn'; message: string; deployment?: DeploymentRef };

/** The settings that apply to the app as a whole. */
export interface AppSettings {
  keepColors: number;
  drainGraceSeconds: number;
  maxDrainSeconds: number;
  /** Shrink draining colors (rainbow.dev/shrink); false as soon as one Service says "false". */
  shrink: boolean;
}

export interface PlanInput {
  app: string;
  namespace: string;
  /** The app's Services (others are ignored). */
  services: readonly V1Service[];
  /** The app's Deployments (others are ignored). */
  deployments: readonly V1Deployment[];
  /** Per color; a color without an entry has not been probed yet. */
  drain: ReadonlyMap<string, DrainObservation>;
  /**
   * Colors the caller has seen serving (the controller remembers them while it runs). A color
   * that served and stopped is a previous color even when it is newer than the serving one (after
   * a rollback), before its drain-started stamp is written.
   */
  served?: ReadonlySet<string>;
  /**
   * `drain` was probed just now, in this drain round: only then are deletion costs written and
   * colors shrunk (a reconcile between rounds plans with counts up to an interval old, and
   * would write again the costs the round before has written).
   */
  drainRound?: boolean;
  now: Date;
}

export interface ColorStatus {
  color: string;
  state: ColorState;
  /** The color's Deployment (the Available one if several, else the newest); absent for a Service's color without one. */
  deployment?: DeploymentRef;
  available: boolean;
  readyReplicas: number;
  desiredReplicas: number;
  /** The Deployment's rainbow.dev/shrunk-from, when it runs fewer replicas than that (the controller shrank it). */
  shrunkFrom?: number;
  createdAt?: Date;
  /** Services whose selector names this color. */
  servingServices: string[];
  /** Services whose rainbow.dev/pending-color names this color. */
  pendingServices: string[];
  /** The Deployment's valid drain-started, if any. */
  drainStartedAt?: Date;
  /** drain-started + max-drain, for a previous color that is not kept. */
  drainDeadline?: Date;
  /** When a drained color may go: the later of zeroSince and drain-started, plus drain-grace. */
  deletableAt?: Date;
  observation?: DrainObservation;
}

export interface AppColors {
  app: string;
  namespace: string;
  settings: AppSettings;
  /** Newest previous colors first: serving, then pending, then the others newest first. */
  colors: ColorStatus[];
  warnings: string[];
  /** The app has no Service: nothing is known to serve, so the controller does nothing. */
  noService: boolean;
  /** A Service selects the app without a color: every color serves it, nothing is cleaned up. */
  unselectiveServices: string[];
}

/** drain-started in the future by more than this is reported (clock skew or a hand-written value). */
export const FUTURE_TOLERANCE_MS = 60_000;

/**
 * The app's settings when several Services carry them: the most conservative value of each —
 * the largest keep-colors, the longest drain-grace, the longest max-drain (the delete guard also
 * takes the longest max-drain, so both sides agree when a color is past it), and shrink only when
 * no Service says rainbow.dev/shrink: "false". Unreadable annotations fall back to DESIGN's
 * defaults with a warning (readServiceSettings).
 */
export function appSettings(services: readonly V1Service[]): { settings: AppSettings; warnings: string[] } {
  const warnings: string[] = [];
  if (services.length === 0) {
    return {
      settings: { keepColors: DEFAULTS.keepColors, drainGraceSeconds: DEFAULTS.drainGraceSeconds, maxDrainSeconds: DEFAULTS.maxDrainSeconds, shrink: DEFAULTS.shrink },
      warnings,
    };
  }
  const all = services.map((s) => {
    const r = readServiceSettings(s);
    warnings.push(...r.warnings.filter((w) => [ANNOTATION_KEEP_COLORS, ANNOTATION_DRAIN_GRACE, ANNOTATION_MAX_DRAIN, ANNOTATION_SHRINK].some((k) => w.includes(k))));
    return r.settings;
  });
  return {
    settings: {
      keepColors: Math.max(...all.map((s) => s.keepColors)),
      drainGraceSeconds: Math.max(...all.map((s) => s.drainGraceSeconds)),
      maxDrainSeconds: Math.max(...all.map((s) => s.maxDrainSeconds)),
      shrink: all.every((s) => s.shrink),
    },
    warnings,
  };
}

/** rainbow.dev/drain-started as a time, RFC 3339 only (the delete guard's reading). */
export function parseDrainStarted(raw: string | undefined): { value?: string; at?: Date; malformed: boolean } {
  if (raw === undefined) return { malformed: false };
  const trimmed = raw.trim();
  const at = /^\d{4}-\d{2}-\d{2}T/.test(trimmed) ? toDate(trimmed) : undefined;
  return at ? { value: raw, at, malformed: false } : { value: raw, malformed: true };
}

/** The RFC 3339 form the controller writes (whole seconds, UTC). */
export function formatDrainStarted(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function ref(d: V1Deployment, namespace: string): DeploymentRef {
  const r: DeploymentRef = { name: d.metadata?.name ?? '', namespace: d.metadata?.namespace ?? namespace };
  if (d.metadata?.uid) r.uid = d.metadata.uid;
  return r;
}

function serviceName(s: V1Service): string {
  return s.metadata?.name ?? '(unnamed)';
}

const STATE_ORDER: Record<ColorState, number> = { serving: 0, pending: 1, new: 1, draining: 2, drained: 2, kept: 2, deleting: 2 };

/**
 * Every color of the app and its state. Colors come from the app's Deployments and from its
 * Services' selectors and pending annotations (a color may be named before its Deployment exists).
 */
export function colorStates(input: PlanInput): AppColors {
  const { app, namespace } = input;
  const services = input.services.filter((s) => appOf(s) === app);
  const deployments = input.deployments.filter((d) => appOf(d) === app);
  const { settings, warnings } = appSettings(services);

  const serving = new Map<string, string[]>();
  const pending = new Map<string, string[]>();
  const unselectiveServices: string[] = [];
  const push = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const s of services) {
    const c = colorOfService(s);
    if (c) push(serving, c, serviceName(s));
    else unselectiveServices.push(serviceName(s));
    const p = annotationOf(s, ANNOTATION_PENDING_COLOR)?.trim();
    if (p) push(pending, p, serviceName(s));
  }
  if (unselectiveServices.length > 0) {
    warnings.push(
      `Service${unselectiveServices.length > 1 ? 's' : ''} ${unselectiveServices.join(', ')} of app ${app} select${unselectiveServices.length > 1 ? '' : 's'} no color ` +
        `(no rainbow.dev/color in spec.selector): every color serves, so no color is cleaned up`,
    );
  }
  const noService = services.length === 0;
  if (noService && deployments.length > 0) {
    warnings.push(`app ${app} has Deployments but no Service labelled rainbow.dev/app=${app}: nothing is known to serve, so no color is cleaned up`);
  }

  const names = new Set<string>();
  for (const d of deployments) {
    const c = colorOfDeployment(d);
    if (c) names.add(c);
  }
  for (const c of serving.keys()) names.add(c);
  for (const c of pending.keys()) names.add(c);

  const colors: ColorStatus[] = [];
  for (const color of names) {
    const d = deploymentOfColor(deployments, app, color);
    const servingServices = serving.get(color) ?? (unselectiveServices.length > 0 && d ? [...unselectiveServices] : []);
    const pendingServices = pending.get(color) ?? [];
    const status: ColorStatus = {
      color,
      state: 'draining',
      available: isDeploymentAvailable(d),
      readyReplicas: d?.status?.readyReplicas ?? 0,
      desiredReplicas: d ? desiredReplicas(d) : 0,
      servingServices,
      pendingServices,
    };
    if (d) {
      status.deployment = ref(d, namespace);
      const from = shrunkFrom(d);
      if (from !== undefined && from > status.desiredReplicas) status.shrunkFrom = from;
      const created = toDate(d.metadata?.creationTimestamp as Date | string | undefined);
      if (created) status.createdAt = created;
      const ds = parseDrainStarted(annotationOf(d, ANNOTATION_DRAIN_STARTED));
      if (ds.at) status.drainStartedAt = ds.at;
    }
    const obs = input.drain.get(color);
    if (obs) status.observation = obs;

    if (servingServices.length > 0) status.state = 'serving';
    else if (pendingServices.length > 0) status.state = 'pending';
    else if (!d) continue; // named by nothing that still exists
    else if (isBeingDeleted(d)) status.state = 'deleting';
    colors.push(status);
  }

  // Which of the other colors are previous ones (served once; candidates for keep/drain/delete)
  // and which are new (deployed ahead of their switch): a color is previous if it carries a
  // drain-started stamp, if the caller saw it serve, or if its Deployment is older than every
  // serving color's (an earlier release). A color as new as the serving one or newer, never seen
  // serving, is `new` and left alone; with no serving Deployment to compare with, unstamped colors
  // are new too (nothing is deleted that cannot be placed in time).
  const servingCreated = colors
    .filter((c) => c.state === 'serving' && c.createdAt)
    .map((c) => c.createdAt!.getTime());
  const oldestServing = servingCreated.length > 0 ? Math.min(...servingCreated) : undefined;
  for (const c of colors) {
    if (c.state !== 'draining') continue;
    const earlier = oldestServing !== undefined && c.createdAt !== undefined && c.createdAt.getTime() < oldestServing;
    if (!c.drainStartedAt && !input.served?.has(c.color) && !earlier) c.state = 'new';
  }

  // Previous colors: the most recently out of service first (drain-started, then creation time);
  // the first keep-colors are kept.
  const previous = colors.filter((c) => c.state === 'draining');
  const outOfService = (c: ColorStatus) => c.drainStartedAt?.getTime() ?? Number.POSITIVE_INFINITY; // unstamped: stops serving now
  const byAge = [...previous].sort(
    (a, b) => outOfService(b) - outOfService(a) || (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.color.localeCompare(b.color),
  );
  byAge.forEach((c, i) => {
    if (i < settings.keepColors) {
      c.state = 'kept';
      return;
    }
    if (c.drainStartedAt) c.drainDeadline = new Date(c.drainStartedAt.getTime() + settings.maxDrainSeconds * 1000);
    const obs = c.observation;
    if (obs && !obs.unknown && obs.lastCount === 0) {
      c.state = 'drained';
      if (obs.zeroSince && c.drainStartedAt) {
        const from = Math.max(obs.zeroSince.getTime(), c.drainStartedAt.getTime());
        c.deletableAt = new Date(from + settings.drainGraceSeconds * 1000);
      }
    }
  });

  const rank = new Map(byAge.map((c, i) => [c, i]));
  colors.sort(
    (a, b) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      (rank.get(a) ?? 0) - (rank.get(b) ?? 0) ||
      (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) ||
      a.color.localeCompare(b.color),
  );
  return { app, namespace, settings, colors, warnings, noService, unselectiveServices };
}

/** What to do for one app now; the order is the order to act in. */
export function planApp(input: PlanInput): Action[] {
  return planAppDetailed(input).actions;
}

/** planApp with the states it was computed from (the loop uses both; `status` only the states). */
export function planAppDetailed(input: PlanInput): { actions: Action[]; colors: AppColors } {
  const { app, namespace, now } = input;
  const services = input.services.filter((s) => appOf(s) === app);
  const deployments = input.deployments.filter((d) => appOf(d) === app);
  const colors = colorStates(input);
  const { settings } = colors;
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
    const a: Action = { type: 'promote', service: serviceName(s), to: pendingColor, deployment: ref(d, namespace) };
    if (current) a.from = current;
    if (rv) a.resourceVersion = rv;
    actions.push(a);
  }

  // 2. Per color: stamps, stale stamps, probes and deletions.
  for (const c of colors.colors) {
    const d = c.deployment ? deploymentOfColor(deployments, app, c.color) : undefined;
    if (!d || !c.deployment || c.state === 'deleting') continue;
    const raw = annotationOf(d, ANNOTATION_DRAIN_STARTED);
    const ds = parseDrainStarted(raw);

    actions.push({ type: 'ask-pods', color: c.color, deployment: c.deployment });

    if (c.state === 'new') continue; // not released yet: counted, never stamped or deleted
    if (c.state === 'serving' || c.state === 'pending') {
      if (raw !== undefined && colors.unselectiveServices.length === 0) {
        actions.push({ type: 'clear-drain-started', color: c.color, deployment: c.deployment, value: raw });
      }
      const back = restoreStep(c, d);
      if (back) actions.push(back);
      continue;
    }
    // Previous colors (kept, draining, drained). Without a Service nothing is known to serve.
    if (colors.noService) continue;

    if (!ds.at) {
      const stamp: Action = { type: 'stamp-drain-started', color: c.color, deployment: c.deployment, at: now };
      if (ds.malformed) {
        stamp.replaces = raw;
        actions.push({
          type: 'warn',
          deployment: c.deployment,
          message: `Deployment ${c.deployment.name}: ${ANNOTATION_DRAIN_STARTED}=${JSON.stringify(raw)} is not an RFC 3339 time; restamping it with the current time (its max-drain clock restarts)`,
        });
      }
      actions.push(stamp);
      continue; // stamp first; decide on a later round
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
      continue;
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
        message: `color ${c.color} has read 0 established connections since ${formatDrainStarted(since)} (drain-grace ${formatDuration(settings.drainGraceSeconds)}); deleting Deployment ${c.deployment.name}`,
      });
      continue;
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
        message:
          `color ${c.color} has been out of service since ${raw!.trim()} (${formatDuration(out)}), past max-drain ${formatDuration(settings.maxDrainSeconds)}, ` +
          `with ${holding}; deleting Deployment ${c.deployment.name} anyway (${holding.startsWith('0 ') ? 'nothing to cut' : 'open connections are cut'})`,
      };
      if (obs?.lastCount !== undefined && obs.unknown === undefined) a.connections = obs.lastCount;
      actions.push(a);
      continue;
    }
    if (input.drainRound) actions.push(...shrinkSteps(c, d, settings, now));
  }
  return { actions, colors };
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

/** A probe's result for one color: the sum of the pods' counts, or why it is incomplete. */
export interface ProbeResult {
  /** Sum over the pods that answered (0 when the color has no running pod). */
  count: number;
  /** Set when any pod could not be asked, or the pods could not be listed. */
  unknown?: string;
  /** The color's active pods with their counts (probe.ts), when they were listed. */
  pods?: PodObservation[];
}

/**
 * The next observation of a color after a probe at `now`. zeroSince carries over only while
 * every probe reads 0; an incomplete probe (unknown) or any connection resets it. If the clock
 * went backwards past zeroSince, the count restarts at `now` (never earlier than what was seen).
 */
export function nextObservation(prev: DrainObservation | undefined, probe: ProbeResult, now: Date): DrainObservation {
  const next: DrainObservation = { lastCount: probe.count, observedAt: now };
  if (probe.pods) next.pods = probe.pods;
  if (probe.unknown !== undefined) {
    next.unknown = probe.unknown;
    return next;
  }
  if (probe.count !== 0) return next;
  const carried = prev && prev.unknown === undefined && prev.lastCount === 0 ? prev.zeroSince : undefined;
  next.zeroSince = carried && carried.getTime() <= now.getTime() ? carried : now;
  return next;
}
