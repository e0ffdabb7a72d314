// The delete guard: may this DELETE (or scale to zero) stop a color? Pure, in two steps, because
// the last rule needs each pod's connection count and asking pods is I/O:
//
//   planDeleteGuard(req, snapshot)  → decided, or the pods to ask
//   decideFromCounts(plan, reports) → the decision once the pods have answered
//
// The caller's recipe (see guard-subject.ts): guardFetch(req) says which namespace and which
// Deployment to GET; guardScope(req, deployment) names the app and color whose Services and Pods
// to read. Then build a GuardSnapshot and call planDeleteGuard.
//
// Rule order is DESIGN's. Where DESIGN is silent about ReplicaSets that their own Deployment
// retires, the guard steps aside (see rule 2b), because refusing would wedge the Deployment
// controller while protecting nothing that the rollout is not already replacing.
import type { V1Deployment, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_CONNECTIONS_PATH,
  ANNOTATION_CONNECTIONS_PORT,
  ANNOTATION_DRAIN_STARTED,
  ANNOTATION_FORCE_DELETE,
  ANNOTATION_MAX_DRAIN,
  ANNOTATION_PENDING_COLOR,
  DEFAULTS,
  LABEL_APP,
  LABEL_COLOR,
} from '../contract.js';
import type { AdmissionRequest } from '../admission/review.js';
import { allowed, denied, withWarnings, type Decision } from '../admission/responses.js';
import { appOf, colorOfService, desiredReplicas, readServiceSettings } from './availability.js';
import { formatDuration } from './durations.js';
import {
  appAndColor,
  classifyGuardRequest,
  workloadSelector,
  type GuardAction,
  type GuardedRequest,
  type WorkloadKind,
} from './guard-subject.js';
import { annotationOf, isBeingDeleted, matchesSelector, toDate, type HasMetadata } from './objects.js';

export { guardFetch, guardScope, type GuardFetch, type GuardScope } from './guard-subject.js';

/**
 * What the caller read from the cluster just before planning. Lists may hold more than needed
 * (the guard filters by app, color and the workload's selector) but must not hold less.
 */
export interface GuardSnapshot {
  /** status.phase of the request's namespace; 'Terminating' once it is being deleted. Undefined if unknown. */
  namespacePhase?: string;
  /** The Deployment named by guardFetch(req).deploymentName; null when it was not found. */
  deployment?: V1Deployment | null;
  /** Services in the namespace labelled rainbow.dev/app=<app> (guardScope().app). */
  services: V1Service[];
  /** Pods in the namespace of the color (guardScope()), any phase. */
  pods: V1Pod[];
  /** The time the snapshot was read; max-drain is measured against it. */
  now: Date;
}

/** A pod to ask `GET http://<ip>:<port><path>`; an IPv6 `ip` needs brackets in a URL. */
export interface PodTarget {
  name: string;
  ip: string;
  port: number;
  path: string;
}

/**
 * A pod's answer, keyed by pod name: the reporter protocol's body, or why it could not be had.
 * Same shape as connections/ask-pods.ts produces, so its reports can be passed as they are.
 */
export type PodReport =
  | { name: string; ok: true; established: number; ports?: Record<string, number> }
  | { name: string; ok: false; error: string; reason?: string };

/** The object being stopped, for messages. */
export interface GuardSubject {
  action: GuardAction;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  app: string;
  color: string;
  /** The Deployment that owns the color (a ReplicaSet's owner), when there is one. */
  deploymentName?: string;
}

export interface AskPodsPlan {
  kind: 'ask-pods';
  pods: PodTarget[];
  subject: GuardSubject;
  /** Carried into the final decision. */
  warnings: string[];
}

export type GuardPlan = { kind: 'decided'; decision: Decision } | AskPodsPlan;

export interface CountOptions {
  /** What a pod that cannot be asked means; DESIGN's default is 'deny'. */
  onUnknown: 'deny' | 'allow';
}

const decided = (decision: Decision): GuardPlan => ({ kind: 'decided', decision });

// --- messages ---------------------------------------------------------------------------------

function describeSubject(s: GuardSubject): string {
  const owner = s.kind === 'ReplicaSet' && s.deploymentName ? `Deployment ${s.deploymentName}, ` : '';
  return `${s.kind} ${s.namespace}/${s.name} (${owner}app ${s.app}, color ${s.color})`;
}

function refusal(s: GuardSubject): string {
  return s.action === 'delete' ? `Refusing to delete ${describeSubject(s)}` : `Refusing to scale ${describeSubject(s)} to 0`;
}

function gerund(s: GuardSubject): string {
  return s.action === 'delete' ? 'deleting it' : 'scaling it to 0';
}

/** The object a user annotates to force: the color's Deployment, else the workload itself. */
function forceCommand(s: GuardSubject): string {
  const [kind, name] = s.deploymentName ? ['deployment', s.deploymentName] : [s.kind.toLowerCase(), s.name];
  return `kubectl annotate ${kind} ${name} -n ${s.namespace} ${ANNOTATION_FORCE_DELETE}=true`;
}

function statusCommand(s: GuardSubject): string {
  return `kubectl rainbow status ${s.app} -n ${s.namespace}`;
}

function waitOrForce(s: GuardSubject): string {
  return `Wait for them to close and retry (watch: ${statusCommand(s)}), or force: ${forceCommand(s)}`;
}

// --- step 1 -----------------------------------------------------------------------------------

/** Applies DESIGN's rules up to the connection count. Pure: everything comes from req and snapshot. */
export function planDeleteGuard(req: AdmissionRequest, snapshot: GuardSnapshot): GuardPlan {
  const g = classifyGuardRequest(req);
  if (!g.guarded) return decided(allowed(undefined, g.reason));

  const deployment = snapshot.deployment ?? undefined;
  const ac = appAndColor(g, deployment);
  if (!ac) {
    return decided(allowed(`${g.kind} ${g.namespace}/${g.name} is not a rainbow color (no ${LABEL_APP} and color labels)`, 'not-rainbow'));
  }
  const rs = g.kind === 'ReplicaSet' ? ((g.workload ?? g.updated) as V1ReplicaSet | undefined) : undefined;
  // The color's Deployment: the workload itself, the scaled one, or a ReplicaSet's owner.
  const colorDeployment: V1Deployment | undefined =
    g.kind === 'Deployment' ? ((g.workload as V1Deployment | undefined) ?? deployment) : ownerIfCurrent(g, deployment);
  const subject: GuardSubject = { action: g.action, kind: g.kind, name: g.name, namespace: g.namespace, ...ac };
  if (g.kind === 'Deployment') subject.deploymentName = g.name;
  else if (colorDeployment?.metadata?.name) subject.deploymentName = colorDeployment.metadata.name;
  const warnings: string[] = [];

  // Rule 1: force. The annotation counts on the object before or after the request (annotate and
  // scale in one apply), and on the color's Deployment (a ReplicaSet or a Scale carries none).
  const forceSources: Array<HasMetadata | undefined> = [g.workload, g.updated, colorDeployment];
  const forceValues = forceSources.map((o) => annotationOf(o, ANNOTATION_FORCE_DELETE)).filter((v): v is string => v !== undefined);
  if (forceValues.some((v) => v.trim().toLowerCase() === 'true')) {
    return decided(
      withWarnings(
        allowed(undefined, 'forced'),
        `${describeSubject(subject)} has ${ANNOTATION_FORCE_DELETE}=true: ${gerund(subject)} without checking connections; any still open will be cut`,
      ),
    );
  }
  if (forceValues.length > 0) {
    warnings.push(`${ANNOTATION_FORCE_DELETE}=${JSON.stringify(forceValues[0])} is ignored; only "true" forces`);
  }

  // Rule 2: the namespace is going away, so is everything in it.
  if (snapshot.namespacePhase === 'Terminating') {
    return decided(allowed(`namespace ${g.namespace} is terminating`, 'namespace-terminating'));
  }

  // Rule 2a (DESIGN): a ReplicaSet whose Deployment is gone or being deleted is garbage collection.
  if (g.kind === 'ReplicaSet' && g.ownerRef) {
    const sameOwner = deployment && (!g.ownerRef.uid || !deployment.metadata?.uid || deployment.metadata.uid === g.ownerRef.uid);
    if (!sameOwner) {
      return decided(allowed(`the owner Deployment ${g.ownerRef.name} of ${describeSubject(subject)} is gone`, 'owner-gone'));
    }
    if (isBeingDeleted(deployment)) {
      return decided(allowed(`the owner Deployment ${g.ownerRef.name} of ${describeSubject(subject)} is being deleted`, 'owner-deleting'));
    }
  }

  // Rule 2b (our choice, DESIGN is silent): ReplicaSets retired by their own Deployment.
  if (rs) {
    const retired = retiredByOwner(g, rs, deployment);
    if (retired) return decided(withWarnings(allowed(retired.message, retired.reason), ...warnings));
  }

  // Rule 3: a color that serves a Service is never stopped; the Service would lose its endpoints.
  const appServices = snapshot.services.filter((s) => appOf(s) === ac.app);
  const serving = appServices.filter((s) => colorOfService(s) === ac.color);
  if (serving.length > 0) {
    const names = serving.map((s) => s.metadata?.name ?? '(unnamed)').join(', ');
    const plural = serving.length > 1 ? 's' : '';
    return decided(
      withWarnings(
        denied(
          `${refusal(subject)}: color ${ac.color} is serving Service${plural} ${names} (spec.selector ${colorLabel(ac.color)}); ` +
            `${gerund(subject)} would leave ${serving.length > 1 ? 'them' : 'it'} without endpoints. ` +
            `Deploy another color and let the Service move to it (watch: ${statusCommand(subject)}), or force: ${forceCommand(subject)}`,
          403,
          'serving',
        ),
        ...warnings,
      ),
    );
  }

  for (const s of appServices) {
    if (annotationOf(s, ANNOTATION_PENDING_COLOR) === ac.color) {
      warnings.push(
        `Service ${s.metadata?.name} is waiting to switch to color ${ac.color} (${ANNOTATION_PENDING_COLOR}); it will keep serving ${colorOfService(s) ?? 'its current color'}`,
      );
    }
  }

  // Rule 4: past max-drain the color goes even with connections. The longest max-drain among the
  // app's Services counts (DESIGN names "the Service's"; with several, the most patient wins).
  const drain = drainState(subject, colorDeployment ?? (rs as HasMetadata | undefined), appServices, snapshot.now);
  warnings.push(...drain.warnings);
  if (drain.past) {
    return decided(withWarnings(allowed(undefined, 'max-drain'), drain.past, ...warnings));
  }

  // Rule 5: ask every running pod of the workload.
  const selector = workloadSelector(g.kind === 'Deployment' ? colorDeployment : rs, ac.app, ac.color);
  const portSource = colorDeployment ?? rs;
  const pods: PodTarget[] = [];
  for (const pod of snapshot.pods) {
    if (!isAskable(pod) || !matchesSelector(pod.metadata?.labels, selector)) continue;
    const target = podTarget(pod, portSource, warnings);
    pods.push(target);
  }
  if (pods.length === 0) {
    return decided(withWarnings(allowed(`${describeSubject(subject)} has no running pods`, 'no-pods'), ...warnings));
  }
  pods.sort((a, b) => a.name.localeCompare(b.name));
  return { kind: 'ask-pods', pods, subject, warnings };
}

function colorLabel(color: string): string {
  return `${LABEL_COLOR}=${color}`;
}

/** A ReplicaSet's owner, when the snapshot's Deployment is that owner (same name and uid). */
function ownerIfCurrent(g: GuardedRequest, deployment: V1Deployment | undefined): V1Deployment | undefined {
  if (!g.ownerRef || !deployment || deployment.metadata?.name !== g.ownerRef.name) return undefined;
  if (g.ownerRef.uid && deployment.metadata?.uid && deployment.metadata.uid !== g.ownerRef.uid) return undefined;
  return deployment;
}

const REVISION = 'deployment.kubernetes.io/revision';

/**
 * The Deployment controller scales old ReplicaSets to 0 during every rollout and deletes them past
 * revisionHistoryLimit. Both are allowed:
 *  - DELETE of a ReplicaSet already at 0 replicas stops nothing (history cleanup);
 *  - scaling to 0 a ReplicaSet that is not its live owner's current revision, while the owner
 *    still wants pods, is a rollout inside one color: the new ReplicaSet takes over.
 * Scaling the owner's current ReplicaSet to 0, or any ReplicaSet once the owner is at 0, is
 * guarded like the color itself: `deployments/scale` requests carry no labels, so an objectSelector
 * never sends them to the webhook, and this is where `kubectl scale deployment --replicas=0`
 * is caught. A denial leaves the pods running and the Deployment controller retries until the
 * connections are gone.
 */
function retiredByOwner(
  g: GuardedRequest,
  rs: V1ReplicaSet,
  owner: V1Deployment | undefined,
): { message: string; reason: string } | undefined {
  if (g.action === 'delete' && (rs.spec?.replicas ?? 1) === 0) {
    return { message: `ReplicaSet ${g.namespace}/${g.name} is at 0 replicas; deleting it stops no pods`, reason: 'no-pods' };
  }
  if (g.action !== 'scale-to-zero' || !g.ownerRef || !owner) return undefined;
  if (desiredReplicas(owner) === 0) return undefined;
  const rsRevision = annotationOf(rs, REVISION);
  const ownerRevision = annotationOf(owner, REVISION);
  if (rsRevision !== undefined && ownerRevision !== undefined && rsRevision === ownerRevision) return undefined;
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
  const warnings: string[] = [];
  let maxDrain: number = DEFAULTS.maxDrainSeconds;
  if (appServices.length > 0) {
    const values = appServices.map((svc) => {
      const r = readServiceSettings(svc);
      warnings.push(...r.warnings.filter((w) => w.includes(ANNOTATION_MAX_DRAIN)));
      return r.settings.maxDrainSeconds;
    });
    maxDrain = Math.max(...values);
  }
  const raw = annotationOf(colorObject, ANNOTATION_DRAIN_STARTED);
  if (raw === undefined) return { warnings };
  // RFC 3339 only; Date.parse would also take things like "Tuesday".
  const started = /^\d{4}-\d{2}-\d{2}T/.test(raw.trim()) ? toDate(raw.trim()) : undefined;
  if (!started) {
    warnings.push(`${ANNOTATION_DRAIN_STARTED}=${JSON.stringify(raw)} on ${s.deploymentName ?? s.name} is not an RFC 3339 time; max-drain is not applied`);
    return { warnings };
  }
  const out = (now.getTime() - started.getTime()) / 1000;
  if (out < maxDrain) return { warnings };
  return {
    warnings,
    past:
      `${describeSubject(s)} has been out of service since ${raw.trim()} (${formatDuration(out)}), ` +
      `past max-drain ${formatDuration(maxDrain)}: ${gerund(s)} now, which cuts any connections still open`,
  };
}

/** Only pods that run and can be reached are asked; the others hold no connections to protect. */
export function isAskable(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !isBeingDeleted(pod) && Boolean(pod.status?.podIP);
}

/**
 * Where to ask a pod for its count: rainbow.dev/connections-port/-path on the pod, else on its
 * workload, else 9471 /connections. Unusable values fall back to the defaults, with a warning.
 * Shared with the controller, so the guard and the cleanup always ask the same place.
 */
export function podTarget(pod: V1Pod, workload: HasMetadata | undefined, warnings: string[] = []): PodTarget {
  const name = pod.metadata?.name ?? '(unnamed)';
  const portRaw = annotationOf(pod, ANNOTATION_CONNECTIONS_PORT) ?? annotationOf(workload, ANNOTATION_CONNECTIONS_PORT);
  const pathRaw = annotationOf(pod, ANNOTATION_CONNECTIONS_PATH) ?? annotationOf(workload, ANNOTATION_CONNECTIONS_PATH);
  let port: number = DEFAULTS.connectionsPort;
  if (portRaw !== undefined) {
    const n = Number(portRaw.trim());
    if (/^\d+$/.test(portRaw.trim()) && n >= 1 && n <= 65535) port = n;
    else warnings.push(`pod ${name}: ${ANNOTATION_CONNECTIONS_PORT}=${JSON.stringify(portRaw)} is not a port; asking ${DEFAULTS.connectionsPort}`);
  }
  let path: string = DEFAULTS.connectionsPath;
  if (pathRaw !== undefined) {
    if (pathRaw.startsWith('/') && !/\s/.test(pathRaw)) path = pathRaw;
    else warnings.push(`pod ${name}: ${ANNOTATION_CONNECTIONS_PATH}=${JSON.stringify(pathRaw)} is not a path; asking ${DEFAULTS.connectionsPath}`);
  }
  return { name, ip: pod.status?.podIP ?? '', port, path };
}

// --- step 2 -----------------------------------------------------------------------------------

function portBreakdown(ports: Record<string, number> | undefined): string {
  const parts = Object.entries(ports ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b))
    .map(([p, n]) => `port ${p}: ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The last rule, once every pod of the plan has been asked. A pod without a report is unknown. */
export function decideFromCounts(plan: AskPodsPlan, reports: readonly PodReport[], opts: CountOptions = { onUnknown: 'deny' }): Decision {
  const byPod = new Map(reports.map((r) => [r.name, r]));
  const busy: Array<{ target: PodTarget; established: number; ports?: Record<string, number> }> = [];
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
  const unknownText = unknown
    .map((u) => `pod ${u.target.name} (${hostPort(u.target)}${u.target.path}): ${u.error}`)
    .join('; ');

  if (busy.length > 0) {
    const total = busy.reduce((n, b) => n + b.established, 0);
    const perPod = busy.map((b) => `${b.target.name}: ${b.established}${portBreakdown(b.ports)}`).join(', ');
    const alsoUnknown = unknown.length > 0 ? ` Could not ask ${unknownText}.` : '';
    return withWarnings(
      denied(
        `${refusal(s)}: ${total} established connection${total === 1 ? '' : 's'} still open — ${perPod}.${alsoUnknown} ${waitOrForce(s)}`,
        403,
        'connections',
      ),
      ...plan.warnings,
    );
  }
  if (unknown.length > 0) {
    if (opts.onUnknown === 'deny') {
      return withWarnings(
        denied(
          `${refusal(s)}: could not ask ${unknownText}. Its connections are unknown, so the request is refused ` +
            `(the webhook's --on-unknown=allow relaxes this). Check the pod's reporter sidecar (${statusCommand(s)}), or force: ${forceCommand(s)}`,
          403,
          'unknown-pod',
        ),
        ...plan.warnings,
      );
    }
    return withWarnings(
      allowed(undefined, 'unknown-pod'),
      `${describeSubject(s)}: could not ask ${unknownText}; allowed because the webhook runs with --on-unknown=allow`,
      ...plan.warnings,
    );
  }
  return withWarnings(
    allowed(`${describeSubject(s)} has no established connections on ${plan.pods.length} pod${plan.pods.length === 1 ? '' : 's'}`, 'drained'),
    ...plan.warnings,
  );
}

function hostPort(t: PodTarget): string {
  return t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`;
}
