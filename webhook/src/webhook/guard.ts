// The guard: may this request stop a color (DELETE, scale to 0), remove some of its pods (scale
// down, a pod DELETE or eviction) or replace them all (a pod template change)? Pure, in two steps,
// because the last rule needs each pod's connection count and asking pods is I/O:
//
//   planDeleteGuard(req, snapshot)  → decided, or the pods to ask
//   decideFromCounts(plan, reports) → the decision once the pods have answered
//
// The caller's recipe (see guard-request.ts): guardFetch(req) says what to GET; guardScope(req,
// fetched) names the app and color whose Services and Pods (or Deployments) to read. Then build a
// GuardSnapshot and call planDeleteGuard.
//
// Rules in the README's order ("rainbow webhook"). A color that serves a Service is refused only
// what stops it: its pods keep their normal lifecycle (HPA, node drains, rollouts). ReplicaSets
// that their own Deployment retires are let go (see retiredByOwner): refusing would wedge the
// Deployment controller while protecting nothing.
import type { V1Deployment, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_FORCE_DELETE,
  ANNOTATION_MAX_DRAIN,
  ANNOTATION_PENDING_COLOR,
  ANNOTATION_POD_DELETION_COST,
  LABEL_APP,
  LABEL_COLOR,
} from '../domain/contract.js';
import type { AdmissionRequest } from '../admission/review.js';
import { allowed, denied, withWarnings, type Decision } from '../admission/responses.js';
import { appOf, colorOfService, deploymentOfColor, desiredReplicas, readServiceSettings } from '../domain/availability.js';
import { appSettings, parseDrainStarted } from '../domain/color-states.js';
import { formatDuration } from '../domain/durations.js';
import { persistedDrainSettings } from '../domain/drain-settings.js';
import {
  appAndColor,
  classifyGuardRequest,
  STOPPING_ACTIONS,
  withFetched,
  workloadSelector,
  type GuardAction,
  type GuardedRequest,
  type WorkloadKind,
} from './guard-request.js';
import { annotationOf, isBeingDeleted, matchesSelector, type HasMetadata } from '../domain/objects.js';
import type { PodReport, PodTarget } from '../net/ask-pods.js';
import { isAskable, podTarget } from '../net/pod-targets.js';
import { isActivePod, removalRank, scaleDownSafety, type CountedPod, type RemovalRank } from '../domain/removal-order.js';

export type { PodReport, PodTarget } from '../net/ask-pods.js';
export { guardFetch, guardScope, type GuardFetch, type GuardFetched, type GuardScope } from './guard-request.js';

/**
 * What the caller read from the cluster just before planning. Lists may hold more than needed
 * (the guard filters by app, color and the workload's selector) but must not hold less.
 */
export interface GuardSnapshot {
  /** status.phase of the request's namespace; 'Terminating' once it is being deleted. Undefined if unknown. */
  namespacePhase?: string;
  /** The Deployment named by guardFetch(req).deploymentName, or the fetched ReplicaSet's owner; null when not found. */
  deployment?: V1Deployment | null;
  /** The ReplicaSet named by guardFetch(req).replicaSetName; null when not found. */
  replicaSet?: V1ReplicaSet | null;
  /** The pod named by guardFetch(req).podName; null when not found. */
  pod?: V1Pod | null;
  /** Services in the namespace labelled rainbow.dev/app=<app> (guardScope().app). */
  services: V1Service[];
  /** Pods in the namespace of the color (guardScope().reads 'color-pods'), any phase. */
  pods: V1Pod[];
  /** Deployments of the app (guardScope().reads 'app-deployments'): a pod request finds its color's here. */
  appDeployments?: V1Deployment[];
  /** The time the snapshot was read; max-drain is measured against it. */
  now: Date;
}

/** The object acted on, for messages. */
export interface GuardSubject {
  action: GuardAction;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  app: string;
  color: string;
  /** The Deployment that owns the color (a ReplicaSet's or a pod's), when there is one. */
  deploymentName?: string;
  /** A scale: replicas before and after. */
  replicas?: { from: number; to: number };
}

/** A scale-down to k > 0: every active pod of the workload, ranked as the ReplicaSet controller ranks them. */
export interface ScaleDownPlan {
  to: number;
  /** Active pods; those not in `pods` (not running, no IP) hold no connections. */
  active: RemovalRank[];
}

export interface AskPodsPlan {
  kind: 'ask-pods';
  pods: PodTarget[];
  subject: GuardSubject;
  /** Set for a scale-down to k > 0: connected pods may stay if they are sure to outlast the removed ones. */
  scaleDown?: ScaleDownPlan;
  /** Carried into the final decision. */
  warnings: string[];
}

export type GuardPlan = { kind: 'decided'; decision: Decision } | AskPodsPlan;

export interface CountOptions {
  /** What a pod that cannot be asked means; the default is 'deny'. */
  onUnknown: 'deny' | 'allow';
}

const decided = (decision: Decision): GuardPlan => ({ kind: 'decided', decision });

// --- messages ---------------------------------------------------------------------------------

function describeSubject(s: GuardSubject): string {
  const owner = s.kind !== 'Deployment' && s.deploymentName ? `Deployment ${s.deploymentName}, ` : '';
  const kind = s.kind === 'Pod' ? 'pod' : s.kind;
  return `${kind} ${s.namespace}/${s.name} (${owner}app ${s.app}, color ${s.color})`;
}

function replicasText(s: GuardSubject): string {
  return s.replicas ? `from ${s.replicas.from} to ${s.replicas.to} replica${s.replicas.to === 1 ? '' : 's'}` : 'down';
}

function refusal(s: GuardSubject): string {
  switch (s.action) {
    case 'delete':
    case 'pod-delete':
      return `Refusing to delete ${describeSubject(s)}`;
    case 'scale-to-zero':
      return `Refusing to scale ${describeSubject(s)} to 0`;
    case 'scale-down':
      return `Refusing to scale ${describeSubject(s)} ${replicasText(s)}`;
    case 'template-change':
      return `Refusing to change the pod template of ${describeSubject(s)}, which replaces every pod`;
    case 'pod-evict':
      return `Not evicting ${describeSubject(s)} yet`;
  }
}

function gerund(s: GuardSubject): string {
  switch (s.action) {
    case 'delete':
      return 'deleting it';
    case 'scale-to-zero':
      return 'scaling it to 0';
    case 'scale-down':
      return `scaling it ${replicasText(s)}`;
    case 'template-change':
      return 'replacing its pods';
    case 'pod-delete':
      return 'deleting the pod';
    case 'pod-evict':
      return 'evicting the pod';
  }
}

/** The object a user annotates to force: the pod itself, the color's Deployment, else the workload. */
function forceCommand(s: GuardSubject): string {
  const [kind, name] =
    s.kind === 'Pod' ? ['pod', s.name] : s.deploymentName ? ['deployment', s.deploymentName] : [s.kind.toLowerCase(), s.name];
  return `kubectl annotate ${kind} ${name} -n ${s.namespace} ${ANNOTATION_FORCE_DELETE}=true`;
}

function statusCommand(s: GuardSubject): string {
  return `kubectl rainbow status ${s.app} -n ${s.namespace}`;
}

function waitOrForce(s: GuardSubject, first = true): string {
  const retry = s.action === 'pod-evict' ? 'the eviction is retried (kubectl drain does so on this 429) and succeeds once they close' : 'wait for them to close and retry';
  return `${first ? retry[0]!.toUpperCase() + retry.slice(1) : retry} (watch: ${statusCommand(s)}), or force: ${forceCommand(s)}`;
}

/** Evictions are refused with 429 Too Many Requests, the code `kubectl drain` and the cluster autoscaler retry on. */
function refusalCode(s: GuardSubject): number {
  return s.action === 'pod-evict' ? 429 : 403;
}

// --- step 1 -----------------------------------------------------------------------------------

/** Applies the rules up to the connection count. Pure: everything comes from req and snapshot. */
export function planDeleteGuard(req: AdmissionRequest, snapshot: GuardSnapshot): GuardPlan {
  const c = classifyGuardRequest(req);
  if (!c.guarded) return decided(allowed(undefined, c.reason));
  const g = withFetched(c, snapshot);
  return g.kind === 'Pod' ? planPod(g, snapshot) : planWorkload(g, snapshot);
}

function planWorkload(g: GuardedRequest, snapshot: GuardSnapshot): GuardPlan {
  const deployment = snapshot.deployment ?? undefined;
  // A Scale carries nothing of its workload: without the workload there is nothing to protect.
  const scaled = g.kind === 'Deployment' ? snapshot.deployment : snapshot.replicaSet;
  if ((g.fetchDeployment === g.name || g.fetchReplicaSet) && !g.workload && !scaled) {
    return decided(allowed(`${g.kind} ${g.namespace}/${g.name} was not found`, 'not-found'));
  }
  const ac = appAndColor(g, deployment);
  if (!ac) {
    return decided(allowed(`${g.kind} ${g.namespace}/${g.name} is not a rainbow color (no ${LABEL_APP} and color labels)`, 'not-rainbow'));
  }
  const rs = g.kind === 'ReplicaSet' ? ((g.workload ?? g.updated) as V1ReplicaSet | undefined) : undefined;
  // The color's Deployment: the workload itself, the scaled one, or a ReplicaSet's owner.
  const colorDeployment: V1Deployment | undefined =
    g.kind === 'Deployment' ? ((g.workload as V1Deployment | undefined) ?? deployment) : ownerIfCurrent(g, deployment);
  const subject: GuardSubject = { action: g.action, kind: g.kind, name: g.name, namespace: g.namespace, ...ac };
  if (g.replicas) subject.replicas = g.replicas;
  if (g.kind === 'Deployment') subject.deploymentName = g.name;
  else if (colorDeployment?.metadata?.name) subject.deploymentName = colorDeployment.metadata.name;
  const warnings: string[] = [];

  // Rule 1: force. The annotation counts on the object before or after the request (annotate and
  // scale in one apply), and on the color's Deployment (a ReplicaSet or a Scale carries none).
  const forced = forceRule(subject, [g.workload, g.updated, colorDeployment], warnings);
  if (forced) return decided(forced);

  // Rule 2: the namespace is going away, so is everything in it.
  if (snapshot.namespacePhase === 'Terminating') {
    return decided(allowed(`namespace ${g.namespace} is terminating`, 'namespace-terminating'));
  }

  // Rule 2a: a ReplicaSet whose Deployment is gone or being deleted is garbage collection.
  if (g.kind === 'ReplicaSet' && g.ownerRef) {
    const sameOwner = deployment && (!g.ownerRef.uid || !deployment.metadata?.uid || deployment.metadata.uid === g.ownerRef.uid);
    if (!sameOwner) {
      return decided(allowed(`the owner Deployment ${g.ownerRef.name} of ${describeSubject(subject)} is gone`, 'owner-gone'));
    }
    if (isBeingDeleted(deployment)) {
      return decided(allowed(`the owner Deployment ${g.ownerRef.name} of ${describeSubject(subject)} is being deleted`, 'owner-deleting'));
    }
  }

  // Rule 2b: ReplicaSets retired or scaled by their own Deployment.
  if (rs) {
    const retired = retiredByOwner(g, rs, deployment);
    if (retired) return decided(withWarnings(allowed(retired.message, retired.reason), ...warnings));
  }

  // Rule 3: a serving color is never stopped (the Service would lose its endpoints); anything
  // short of stopping it is its normal lifecycle.
  const appServices = snapshot.services.filter((s) => appOf(s) === ac.app);
  const serving = servingRule(subject, appServices, warnings);
  if (serving) return decided(serving);

  // Rule 4: past max-drain the color goes even with connections. The longest max-drain among the
  // app's Services counts: with several Services, the most patient wins.
  const drain = drainState(subject, colorDeployment ?? (rs as HasMetadata | undefined), appServices, snapshot.now);
  warnings.push(...drain.warnings);
  if (drain.past) {
    return decided(withWarnings(allowed(undefined, 'max-drain'), drain.past, ...warnings));
  }

  // Rule 5: ask every running pod of the workload.
  const selector = workloadSelector(g.kind === 'Deployment' ? colorDeployment : rs, ac.app, ac.color);
  const portSource = colorDeployment ?? rs;
  const own = snapshot.pods.filter((p) => matchesSelector(p.metadata?.labels, selector));
  const pods: PodTarget[] = own.filter(isAskable).map((p) => podTarget(p, portSource, warnings));
  if (pods.length === 0) {
    return decided(withWarnings(allowed(`${describeSubject(subject)} has no running pods`, 'no-pods'), ...warnings));
  }
  pods.sort((a, b) => a.name.localeCompare(b.name));
  const plan: AskPodsPlan = { kind: 'ask-pods', pods, subject, warnings };
  if (g.action === 'scale-down' && g.replicas) {
    plan.scaleDown = { to: g.replicas.to, active: own.filter(isActivePod).map(removalRank) };
  }
  return plan;
}

/** A pod DELETE or eviction: only a pod of a color that serves nothing, running, with connections, is kept. */
function planPod(g: GuardedRequest, snapshot: GuardSnapshot): GuardPlan {
  const pod = g.pod;
  const what = `pod ${g.namespace}/${g.name}`;
  if (!pod) return decided(allowed(`${what} was not found`, 'not-found'));
  // The kubelet's final DELETE after a graceful one, or a second delete: stopping it has begun.
  if (isBeingDeleted(pod)) return decided(allowed(`${what} is already being deleted`, 'already-deleting'));
  const ac = appAndColor(g, undefined);
  if (!ac) return decided(allowed(`${what} is not a rainbow color's (no ${LABEL_APP} and ${LABEL_COLOR} labels)`, 'not-rainbow'));
  if (!isAskable(pod)) return decided(allowed(`${what} is not running, so it holds no connections`, 'no-pods'));

  const colorDeployment = deploymentOfColor(snapshot.appDeployments ?? [], ac.app, ac.color);
  const subject: GuardSubject = { action: g.action, kind: 'Pod', name: g.name, namespace: g.namespace, ...ac };
  if (colorDeployment?.metadata?.name) subject.deploymentName = colorDeployment.metadata.name;
  const warnings: string[] = [];

  const forced = forceRule(subject, [pod, colorDeployment], warnings);
  if (forced) return decided(forced);
  if (snapshot.namespacePhase === 'Terminating') {
    return decided(allowed(`namespace ${g.namespace} is terminating`, 'namespace-terminating'));
  }
  // Garbage collection of a deleted color, or a pod no Deployment of rainbow's runs.
  if (!colorDeployment) return decided(allowed(`${describeSubject(subject)} belongs to no Deployment of its color`, 'owner-gone'));
  if (isBeingDeleted(colorDeployment)) {
    return decided(allowed(`the Deployment ${subject.deploymentName} of ${describeSubject(subject)} is being deleted`, 'owner-deleting'));
  }

  const appServices = snapshot.services.filter((s) => appOf(s) === ac.app);
  const serving = servingRule(subject, appServices, warnings);
  if (serving) return decided(serving);

  const drain = drainState(subject, colorDeployment, appServices, snapshot.now);
  warnings.push(...drain.warnings);
  if (drain.past) return decided(withWarnings(allowed(undefined, 'max-drain'), drain.past, ...warnings));

  return { kind: 'ask-pods', pods: [podTarget(pod, colorDeployment, warnings)], subject, warnings };
}

/** Rule 1: rainbow.dev/force-delete=true on any of `sources`; other values are ignored with a warning. */
function forceRule(subject: GuardSubject, sources: Array<HasMetadata | null | undefined>, warnings: string[]): Decision | undefined {
  const values = sources.map((o) => annotationOf(o, ANNOTATION_FORCE_DELETE)).filter((v): v is string => v !== undefined);
  if (values.some((v) => v.trim().toLowerCase() === 'true')) {
    return withWarnings(
      allowed(undefined, 'forced'),
      `${describeSubject(subject)} has ${ANNOTATION_FORCE_DELETE}=true: ${gerund(subject)} without checking connections; any still open will be cut`,
    );
  }
  if (values.length > 0) warnings.push(`${ANNOTATION_FORCE_DELETE}=${JSON.stringify(values[0])} is ignored; only "true" forces`);
  return undefined;
}

/** Rule 3: the decision for a color that serves a Service, undefined when it serves none. */
function servingRule(subject: GuardSubject, appServices: V1Service[], warnings: string[]): Decision | undefined {
  const serving = appServices.filter((s) => colorOfService(s) === subject.color);
  if (serving.length > 0) {
    const names = serving.map((s) => s.metadata?.name ?? '(unnamed)').join(', ');
    const plural = serving.length > 1 ? 's' : '';
    if (!STOPPING_ACTIONS.has(subject.action)) {
      return withWarnings(allowed(`color ${subject.color} serves Service${plural} ${names}: its pods follow their normal lifecycle`, 'serving'), ...warnings);
    }
    return withWarnings(
      denied(
        `${refusal(subject)}: color ${subject.color} is serving Service${plural} ${names} (spec.selector ${LABEL_COLOR}=${subject.color}); ` +
          `${gerund(subject)} would leave ${serving.length > 1 ? 'them' : 'it'} without endpoints. ` +
          `Deploy another color and let the Service move to it (watch: ${statusCommand(subject)}), or force: ${forceCommand(subject)}`,
        403,
        'serving',
      ),
      ...warnings,
    );
  }
  for (const s of appServices) {
    if (annotationOf(s, ANNOTATION_PENDING_COLOR) === subject.color) {
      warnings.push(
        `Service ${s.metadata?.name} is waiting to switch to color ${subject.color} (${ANNOTATION_PENDING_COLOR}); it will keep serving ${colorOfService(s) ?? 'its current color'}`,
      );
    }
  }
  return undefined;
}

/** A ReplicaSet's owner, when the snapshot's Deployment is that owner (same name and uid). */
function ownerIfCurrent(g: GuardedRequest, deployment: V1Deployment | undefined): V1Deployment | undefined {
  if (!g.ownerRef || !deployment || deployment.metadata?.name !== g.ownerRef.name) return undefined;
  if (g.ownerRef.uid && deployment.metadata?.uid && deployment.metadata.uid !== g.ownerRef.uid) return undefined;
  return deployment;
}

const REVISION = 'deployment.kubernetes.io/revision';

/**
 * The Deployment controller scales old ReplicaSets down during every rollout, deletes them past
 * revisionHistoryLimit, and scales its current one to its own replicas. These are allowed:
 *  - DELETE of a ReplicaSet already at 0 replicas stops nothing (history cleanup);
 *  - scaling down a ReplicaSet that is not its live owner's current revision, while the owner
 *    still wants pods, is a rollout inside one color: the new ReplicaSet takes over;
 *  - scaling the current ReplicaSet down to exactly its owner's replicas (k > 0) follows a change
 *    of the Deployment, which the guard reviewed itself.
 * Scaling the owner's current ReplicaSet to 0, or below its owner's replicas, or any ReplicaSet
 * once the owner is at 0, is guarded like the color itself. A denial leaves the pods running and
 * the Deployment controller retries until the connections are gone.
 */
function retiredByOwner(
  g: GuardedRequest,
  rs: V1ReplicaSet,
  owner: V1Deployment | undefined,
): { message: string; reason: string } | undefined {
  if (g.action === 'delete' && (rs.spec?.replicas ?? 1) === 0) {
    return { message: `ReplicaSet ${g.namespace}/${g.name} is at 0 replicas; deleting it stops no pods`, reason: 'no-pods' };
  }
  if ((g.action !== 'scale-to-zero' && g.action !== 'scale-down') || !g.ownerRef || !owner) return undefined;
  const wanted = desiredReplicas(owner);
  if (wanted === 0) return undefined;
  const rsRevision = annotationOf(rs, REVISION);
  const ownerRevision = annotationOf(owner, REVISION);
  if (rsRevision !== undefined && ownerRevision !== undefined && rsRevision === ownerRevision) {
    if (g.action === 'scale-down' && g.replicas?.to === wanted) {
      return { message: `ReplicaSet ${g.namespace}/${g.name} follows its Deployment ${owner.metadata?.name} to ${wanted} replicas`, reason: 'follows-owner' };
    }
    return undefined;
  }
  return {
    message: `ReplicaSet ${g.namespace}/${g.name} (revision ${rsRevision ?? '?'}) is being replaced by the rollout of Deployment ${owner.metadata?.name} (revision ${ownerRevision ?? '?'})`,
    reason: 'rollout',
  };
}

function drainState(
  s: GuardSubject,
  colorObject: HasMetadata | undefined,
  appServices: V1Service[],
  now: Date,
): { past?: string; warnings: string[] } {
  // The controller's rule for several Services: the longest max-drain counts. Without a Service
  // (an uninstalled app), the one the controller kept on the color's Deployment, as it does.
  const maxDrain = appServices.length > 0 ? appSettings(appServices).settings.maxDrainSeconds : persistedDrainSettings(colorObject ? [colorObject] : []).settings.maxDrainSeconds;
  const warnings = appServices.map((svc) => readServiceSettings(svc).warnings[ANNOTATION_MAX_DRAIN]).filter((w): w is string => w !== undefined);
  const ds = parseDrainStarted(annotationOf(colorObject, ANNOTATION_DRAIN_STARTED));
  if (ds.malformed) {
    warnings.push(`${ANNOTATION_DRAIN_STARTED}=${JSON.stringify(ds.value)} on ${s.deploymentName ?? s.name} is not an RFC 3339 time; max-drain is not applied`);
    return { warnings };
  }
  if (!ds.at) return { warnings };
  const out = (now.getTime() - ds.at.getTime()) / 1000;
  if (out < maxDrain) return { warnings };
  return {
    warnings,
    past:
      `${describeSubject(s)} has been out of service since ${ds.value!.trim()} (${formatDuration(out)}), ` +
      `past max-drain ${formatDuration(maxDrain)}: ${gerund(s)} now, which cuts any connections still open`,
  };
}

// --- step 2 -----------------------------------------------------------------------------------

function portBreakdown(ports: Record<string, number> | undefined): string {
  const parts = Object.entries(ports ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b))
    .map(([p, n]) => `port ${p}: ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

interface Busy {
  target: PodTarget;
  established: number;
  ports?: Record<string, number>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The last rule, once every pod of the plan has been asked. A pod without a report is unknown. */
export function decideFromCounts(plan: AskPodsPlan, reports: readonly PodReport[], opts: CountOptions = { onUnknown: 'deny' }): Decision {
  const byPod = new Map(reports.map((r) => [r.name, r]));
  const busy: Busy[] = [];
  const unknown: Array<{ target: PodTarget; error: string }> = [];
  for (const target of plan.pods) {
    const r = byPod.get(target.name);
    if (!r) unknown.push({ target, error: 'no answer' });
    else if (!r.ok) unknown.push({ target, error: r.error });
    else if (!Number.isInteger(r.established) || r.established < 0) {
      unknown.push({ target, error: `reported ${JSON.stringify(r.established)} established connections` });
    } else if (r.established > 0) {
      busy.push(r.ports === undefined ? { target, established: r.established } : { target, established: r.established, ports: r.ports });
    }
  }
  const s = plan.subject;
  const code = refusalCode(s);
  const unknownText = unknown
    .map((u) => `pod ${u.target.name} (${hostPort(u.target)}${u.target.path}): ${u.error}`)
    .join('; ');

  if (unknown.length > 0 && opts.onUnknown === 'deny' && busy.length === 0) {
    return withWarnings(
      denied(
        `${refusal(s)}: could not ask ${unknownText}. Its connections are unknown, so the request is refused ` +
          `(the webhook's --on-unknown=allow relaxes this). Check the pod's reporter sidecar (${statusCommand(s)}), or force: ${forceCommand(s)}`,
        code,
        'unknown-pod',
      ),
      ...plan.warnings,
    );
  }
  if (plan.scaleDown && busy.length > 0 && (unknown.length === 0 || opts.onUnknown === 'allow')) {
    const kept = scaleDownDecision(plan, plan.scaleDown, busy);
    if (kept) return withWarnings(kept, ...plan.warnings);
  }
  if (busy.length > 0) {
    const total = busy.reduce((n, b) => n + b.established, 0);
    const perPod = busy.map((b) => `${b.target.name}: ${b.established}${portBreakdown(b.ports)}`).join(', ');
    const alsoUnknown = unknown.length > 0 ? ` Could not ask ${unknownText}.` : '';
    const way = plan.scaleDown ? `${scaleFloor(plan.scaleDown, busy)} ${waitOrForce(s, false)}` : ` ${waitOrForce(s)}`;
    return withWarnings(
      denied(`${refusal(s)}: ${plural(total, 'established connection')} still open — ${perPod}.${alsoUnknown}${way}`, code, 'connections'),
      ...plan.warnings,
    );
  }
  if (unknown.length > 0) {
    return withWarnings(
      allowed(undefined, 'unknown-pod'),
      `${describeSubject(s)}: could not ask ${unknownText}; allowed because the webhook runs with --on-unknown=allow`,
      ...plan.warnings,
    );
  }
  return withWarnings(
    allowed(`${describeSubject(s)} has no established connections on ${plural(plan.pods.length, 'pod')}`, 'drained'),
    ...plan.warnings,
  );
}

function countedPods(sd: ScaleDownPlan, busy: readonly Busy[]): CountedPod[] {
  const counts = new Map(busy.map((b) => [b.target.name, b.established]));
  return sd.active.map((rank) => ({ rank, connections: counts.get(rank.name) ?? 0 }));
}

/** Allowed when the pods the ReplicaSet controller removes are sure to hold no connections. */
function scaleDownDecision(plan: AskPodsPlan, sd: ScaleDownPlan, busy: readonly Busy[]): Decision | undefined {
  const safety = scaleDownSafety(countedPods(sd, busy), sd.to);
  if (!safety.safe) return undefined;
  const total = busy.reduce((n, b) => n + b.established, 0);
  return allowed(
    `${describeSubject(plan.subject)}: the ${plural(safety.removes, 'pod')} removed hold no connections; ` +
      `the ${plural(busy.length, 'pod')} holding ${total} rank above them by ${ANNOTATION_POD_DELETION_COST}`,
    'connected-pods-kept',
  );
}

/** Why a scale-down would cut, and the replicas that would not. */
function scaleFloor(sd: ScaleDownPlan, busy: readonly Busy[]): string {
  const safety = scaleDownSafety(countedPods(sd, busy), sd.to);
  const ranked = safety.atRisk.map((p) => `${p.rank.name} (${ANNOTATION_POD_DELETION_COST} ${p.rank.deletionCost})`).join(', ');
  const why =
    busy.length > sd.to
      ? ` ${plural(busy.length, 'pod')} hold connections, more than ${sd.to}.`
      : ` The ReplicaSet controller may remove ${ranked}: a connected pod is kept only when it ranks above the removed ones by ${ANNOTATION_POD_DELETION_COST}, which rainbow-controller writes each drain round while it shrinks the color.`;
  return `${why} Scale to at least ${safety.minSafeReplicas},`;
}

function hostPort(t: PodTarget): string {
  return t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
}
