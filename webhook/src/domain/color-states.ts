// The states of an app's colors, pure: from its Services, its Deployments, what has been seen of
// each color's connections and the time. Shared by the controller (which plans on them) and
// `rainbow status` (which shows them), so the table and the controller never disagree.
//
//  - a color that serves no Service and is pending for none is "previous" once it served or is
//    older than the serving one; the newest `keep-colors` previous colors are kept;
//  - a previous color that has read 0 connections since zeroSince is drained, deletable
//    drain-grace after the later of zeroSince and drain-started; past max-drain it has a deadline;
//  - an app that served once (a color carries rainbow.dev/served-at or drain-started) and has had
//    no Service for UNINSTALL_GRACE_SECONDS since rainbow.dev/no-service-since is uninstalled:
//    every color that existed then is a previous color, none is kept (nothing can roll back to it)
//    unless it says rainbow.dev/on-uninstall: keep, and the settings are the ones the controller
//    kept on the Deployments (rainbow.dev/drain-settings). A color deployed after the Service went
//    is `new`, as is every color of an app that never served.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_DRAIN_GRACE,
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_KEEP_COLORS,
  ANNOTATION_MAX_DRAIN,
  ANNOTATION_NO_SERVICE_SINCE,
  ANNOTATION_ON_UNINSTALL,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_SERVED_AT,
  ANNOTATION_SHRINK,
  ANNOTATION_ZERO_SINCE,
  UNINSTALL_GRACE_SECONDS,
} from './contract.js';
import { mostConservative, onUninstall, persistedDrainSettings, type DrainSettings } from './drain-settings.js';
import { appOf, colorOfDeployment, colorOfService, deploymentOfColor, desiredReplicas, isDeploymentAvailable, readServiceSettings, shrunkFrom } from './availability.js';
import { annotationOf, isBeingDeleted, toDate } from './objects.js';
import type { RemovalRank } from './removal-order.js';

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

/** Every state a color can be in, with what it means; help texts, metrics and the status table read this list. */
export const COLOR_STATE_MEANINGS = {
  serving: 'a Service selects it',
  pending: 'a Service waits for it (rainbow.dev/pending-color) until it is Available',
  new: 'deployed, but no Service has selected or asked for it yet; never stamped or deleted',
  draining: 'served before (or its app was uninstalled: "draining (app uninstalled)"); its pods still hold connections (or have not been counted yet)',
  drained: 'served before (or its app was uninstalled); no pod holds a connection; deleted drain-grace after that',
  kept: `served before and among the newest keep-colors: left running as a rollback target (of an uninstalled app: only with ${ANNOTATION_ON_UNINSTALL}: keep)`,
  deleting: 'its Deployment is being deleted',
} as const;

export type ColorState = keyof typeof COLOR_STATE_MEANINGS;

export const COLOR_STATES = Object.keys(COLOR_STATE_MEANINGS) as readonly ColorState[];

/** What `rainbow status` adds to the state of a color of an uninstalled app. */
export const UNINSTALLED_QUALIFIER = 'app uninstalled';

/** The state as `rainbow status` and the dashboard show it: `draining (app uninstalled)` for a color of an uninstalled app. */
export function stateLabel(state: ColorState, appUninstalled: boolean): string {
  return appUninstalled && (state === 'draining' || state === 'drained' || state === 'kept') ? `${state} (${UNINSTALLED_QUALIFIER})` : state;
}

/** The states as an aligned list for a help text. */
export function colorStatesHelp(indent = '  '): string {
  const width = Math.max(...COLOR_STATES.map((s) => s.length));
  return COLOR_STATES.map((s) => `${indent}${s.padEnd(width)}  ${COLOR_STATE_MEANINGS[s]}`).join('\n');
}

export interface DeploymentRef {
  name: string;
  namespace: string;
  uid?: string;
}

/** The settings that apply to the app as a whole. */
export type AppSettings = DrainSettings;

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
  /** How long an app must be without a Service before it counts as uninstalled (default UNINSTALL_GRACE_SECONDS). */
  uninstallGraceSeconds?: number;
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
  /** The Deployment's valid rainbow.dev/served-at: when the controller first saw it serve. */
  servedAt?: Date;
  /** The Deployment's valid rainbow.dev/zero-since (what a restarted controller resumes a 0-streak from). */
  zeroSinceAnnotation?: Date;
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
  /**
   * The app has no Service: nothing is known to serve, so the controller does nothing — unless it
   * served once and has been without one for the uninstall grace (`uninstall`).
   */
  noService: boolean;
  /** An app that served once and has no Service now. */
  uninstall?: UninstallState;
  /** A Service selects the app without a color: every color serves it, nothing is cleaned up. */
  unselectiveServices: string[];
}

export interface UninstallState {
  /** The earliest rainbow.dev/no-service-since of its Deployments, or `now` when none has one yet. */
  noServiceSince: Date;
  /** noServiceSince + the uninstall grace: from then on the app counts as uninstalled. */
  uninstallAt: Date;
  /** now >= uninstallAt: its colors drain. */
  uninstalled: boolean;
}

/** drain-started in the future by more than this is reported (clock skew or a hand-written value). */
export const FUTURE_TOLERANCE_MS = 60_000;

/**
 * The app's settings when several Services carry them: the most conservative value of each —
 * the largest keep-colors, the longest drain-grace, the longest max-drain (the delete guard also
 * takes the longest max-drain, so both sides agree when a color is past it), and shrink only when
 * no Service says rainbow.dev/shrink: "false". Unreadable annotations fall back to the
 * defaults with a warning (readServiceSettings).
 */
export function appSettings(services: readonly V1Service[]): { settings: AppSettings; warnings: string[] } {
  const warnings: string[] = [];
  const all = services.map((s) => {
    const r = readServiceSettings(s);
    for (const k of [ANNOTATION_KEEP_COLORS, ANNOTATION_DRAIN_GRACE, ANNOTATION_MAX_DRAIN, ANNOTATION_SHRINK] as const) {
      const w = r.warnings[k];
      if (w) warnings.push(w);
    }
    return r.settings;
  });
  return { settings: mostConservative(all), warnings };
}

/** rainbow.dev/drain-started as a time, RFC 3339 only (Date.parse would also take "Tuesday"); the guard reads it so too. */
export function parseDrainStarted(raw: string | undefined): { value?: string; at?: Date; malformed: boolean } {
  if (raw === undefined) return { malformed: false };
  const trimmed = raw.trim();
  const at = /^\d{4}-\d{2}-\d{2}T/.test(trimmed) ? toDate(trimmed) : undefined;
  return at ? { value: raw, at, malformed: false } : { value: raw, malformed: true };
}

/** An RFC 3339 annotation the controller writes (served-at, zero-since, no-service-since) as a time; anything else is ignored. */
export function parseTimeAnnotation(raw: string | undefined): Date | undefined {
  return parseDrainStarted(raw).at;
}

/** `at` rounded up to the whole second, as zero-since is written (a restarted controller never counts a 0-streak as longer than it was). */
export function ceilToSecond(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000);
}

/** The RFC 3339 form the controller writes (whole seconds, UTC). */
export function formatDrainStarted(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function deploymentRef(d: V1Deployment, namespace: string): DeploymentRef {
  const r: DeploymentRef = { name: d.metadata?.name ?? '', namespace: d.metadata?.namespace ?? namespace };
  if (d.metadata?.uid) r.uid = d.metadata.uid;
  return r;
}

export function serviceName(s: V1Service): string {
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
  const noService = services.length === 0;
  const live = deployments.filter((d) => !isBeingDeleted(d));
  // Did the app ever serve? Only then can it be uninstalled; an app deployed ahead of its first
  // Service is not (its colors are new).
  const servedOnce =
    deployments.some((d) => parseTimeAnnotation(annotationOf(d, ANNOTATION_SERVED_AT)) || parseTimeAnnotation(annotationOf(d, ANNOTATION_DRAIN_STARTED))) ||
    deployments.some((d) => {
      const c = colorOfDeployment(d);
      return c !== undefined && input.served?.has(c);
    });
  let uninstall: UninstallState | undefined;
  if (noService && servedOnce && live.length > 0) {
    const stamps = live.map((d) => parseTimeAnnotation(annotationOf(d, ANNOTATION_NO_SERVICE_SINCE))).filter((t): t is Date => t !== undefined);
    const since = stamps.length > 0 ? new Date(Math.min(...stamps.map((t) => t.getTime()))) : input.now;
    const at = new Date(since.getTime() + (input.uninstallGraceSeconds ?? UNINSTALL_GRACE_SECONDS) * 1000);
    uninstall = { noServiceSince: since, uninstallAt: at, uninstalled: input.now.getTime() >= at.getTime() };
  }
  const uninstalled = uninstall?.uninstalled === true;
  // With a Service its annotations say; without one, what the controller kept on the Deployments.
  // Nothing can roll back to a color of an uninstalled app, so none is kept for that.
  const fromServices = noService ? undefined : appSettings(services);
  const kept = noService ? persistedDrainSettings(live) : undefined;
  const settings: AppSettings = fromServices?.settings ?? { ...kept!.settings, ...(uninstalled ? { keepColors: 0 } : {}) };
  const warnings = [...(fromServices?.warnings ?? kept!.warnings)];

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
  if (noService && deployments.length > 0 && !uninstall) {
    warnings.push(`app ${app} has Deployments but no Service labelled rainbow.dev/app=${app}: nothing is known to serve, so no color is cleaned up`);
  }
  if (uninstall && !uninstalled) {
    warnings.push(
      `app ${app} has had no Service since ${formatDrainStarted(uninstall.noServiceSince)}: unless one labelled rainbow.dev/app=${app} comes back by ` +
        `${formatDrainStarted(uninstall.uninstallAt)}, it counts as uninstalled and its colors drain and are deleted once drained ` +
        `(to keep one: kubectl annotate deployment <name> ${ANNOTATION_ON_UNINSTALL}=keep)`,
    );
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
      status.deployment = deploymentRef(d, namespace);
      const from = shrunkFrom(d);
      if (from !== undefined && from > status.desiredReplicas) status.shrunkFrom = from;
      const created = toDate(d.metadata?.creationTimestamp as Date | string | undefined);
      if (created) status.createdAt = created;
      const ds = parseDrainStarted(annotationOf(d, ANNOTATION_DRAIN_STARTED));
      if (ds.at) status.drainStartedAt = ds.at;
      const served = parseTimeAnnotation(annotationOf(d, ANNOTATION_SERVED_AT));
      if (served) status.servedAt = served;
      const zero = parseTimeAnnotation(annotationOf(d, ANNOTATION_ZERO_SINCE));
      if (zero) status.zeroSinceAnnotation = zero;
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
  // drain-started stamp, if it was seen serving (rainbow.dev/served-at, or by the caller), or if
  // its Deployment is older than every serving color's (an earlier release). A color as new as the
  // serving one or newer, never seen serving, is `new` and left alone; with no serving Deployment
  // to compare with, unstamped colors are new too (nothing is deleted that cannot be placed in
  // time) — except in an uninstalled app, where every color that existed when its last Service
  // went is on its way out.
  const servingCreated = colors
    .filter((c) => c.state === 'serving' && c.createdAt)
    .map((c) => c.createdAt!.getTime());
  const oldestServing = servingCreated.length > 0 ? Math.min(...servingCreated) : undefined;
  for (const c of colors) {
    if (c.state !== 'draining') continue;
    const earlier = oldestServing !== undefined && c.createdAt !== undefined && c.createdAt.getTime() < oldestServing;
    const leftBehind = uninstalled && c.createdAt !== undefined && c.createdAt.getTime() <= uninstall!.noServiceSince.getTime();
    if (!c.drainStartedAt && !c.servedAt && !input.served?.has(c.color) && !earlier && !leftBehind) c.state = 'new';
  }

  // Previous colors: the most recently out of service first (drain-started, then creation time);
  // the first keep-colors are kept.
  const previous = colors.filter((c) => c.state === 'draining');
  const outOfService = (c: ColorStatus) => c.drainStartedAt?.getTime() ?? Number.POSITIVE_INFINITY; // unstamped: stops serving now
  const byAge = [...previous].sort(
    (a, b) => outOfService(b) - outOfService(a) || (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.color.localeCompare(b.color),
  );
  const keptOnUninstall = (c: ColorStatus): boolean => {
    const { keep, warning } = onUninstall(deploymentOfColor(deployments, app, c.color));
    if (warning) warnings.push(warning);
    return keep;
  };
  byAge.forEach((c, i) => {
    if (uninstalled ? keptOnUninstall(c) : i < settings.keepColors) {
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
  const result: AppColors = { app, namespace, settings, colors, warnings, noService, unselectiveServices };
  if (uninstall) result.uninstall = uninstall;
  return result;
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
export function nextObservation(prev: DrainObservation | undefined, probe: ProbeResult, now: Date, persistedZeroSince?: Date): DrainObservation {
  const next: DrainObservation = { lastCount: probe.count, observedAt: now };
  if (probe.pods) next.pods = probe.pods;
  if (probe.unknown !== undefined) {
    next.unknown = probe.unknown;
    return next;
  }
  if (probe.count !== 0) return next;
  // Without a previous observation (a restarted controller, a new leader) the 0-streak resumes
  // from rainbow.dev/zero-since, which the controller that saw it start wrote.
  const carried = prev ? (prev.unknown === undefined && prev.lastCount === 0 ? prev.zeroSince : undefined) : persistedZeroSince;
  next.zeroSince = carried && carried.getTime() <= now.getTime() ? carried : now;
  return next;
}
