// Which color a guarded request would stop or shrink, read from the request alone or with the
// objects the request does not carry. Also tells the I/O layer what to fetch.
import type { V1Deployment, V1LabelSelector, V1OwnerReference, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { LABEL_APP, LABEL_COLOR } from '../domain/contract.js';
import type { AdmissionRequest } from '../admission/review.js';
import { colorOfDeployment } from '../domain/availability.js';
import { labelOf, type HasMetadata } from '../domain/objects.js';

/**
 * What the request does to the color: stops it (delete, scale-to-zero), removes some of its pods
 * (scale-down to k > 0), replaces every pod (template-change), or removes one pod.
 */
export type GuardAction = 'delete' | 'scale-to-zero' | 'scale-down' | 'template-change' | 'pod-delete' | 'pod-evict';
export type WorkloadKind = 'Deployment' | 'ReplicaSet' | 'Pod';

/** Actions on one pod; the others act on a Deployment or ReplicaSet. */
export const POD_ACTIONS: ReadonlySet<GuardAction> = new Set(['pod-delete', 'pod-evict']);
/** Actions that stop the whole color: a serving color is refused them. */
export const STOPPING_ACTIONS: ReadonlySet<GuardAction> = new Set(['delete', 'scale-to-zero']);

export interface GuardedRequest {
  guarded: true;
  action: GuardAction;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  /** The object as it is before the request (oldObject on DELETE and UPDATE); absent for a Scale. */
  workload?: V1Deployment | V1ReplicaSet;
  /** The object as the request would leave it (UPDATE only, not for a Scale). */
  updated?: V1Deployment | V1ReplicaSet;
  /** A scale: the replicas before and after. */
  replicas?: { from: number; to: number };
  /** The pod of a pod DELETE (its oldObject). */
  pod?: V1Pod;
  /** The Deployment to fetch: see GuardFetch. */
  fetchDeployment?: string;
  /** The ReplicaSet to fetch (replicasets/scale names only the ReplicaSet). */
  fetchReplicaSet?: string;
  /** The pod to fetch (an Eviction names only the pod). */
  fetchPod?: string;
  /** A ReplicaSet's controller reference to its Deployment. */
  ownerRef?: V1OwnerReference;
}

export interface NotGuarded {
  guarded: false;
  /** Metrics label. */
  reason: 'not-guarded' | 'not-a-decrease';
  message: string;
}

/** What the I/O layer must read before planDeleteGuard (besides the namespace's phase). */
export interface GuardFetch {
  namespace: string;
  /**
   * GET this Deployment, passed as snapshot.deployment (null when not found): the one being
   * scaled through `deployments/scale` (a Scale carries no labels or annotations), a
   * ReplicaSet's owner, or the Deployment itself when a DELETE arrives without oldObject.
   */
  deploymentName?: string;
  /** GET this ReplicaSet (snapshot.replicaSet), then its controller Deployment by its ownerReference. */
  replicaSetName?: string;
  /** GET this pod (snapshot.pod). */
  podName?: string;
}

/** The objects fetched as GuardFetch said; null means "asked for and not found". */
export interface GuardFetched {
  deployment?: V1Deployment | null;
  replicaSet?: V1ReplicaSet | null;
  pod?: V1Pod | null;
}

/**
 * What else planDeleteGuard needs, in the request's namespace: the Services labelled
 * rainbow.dev/app=<app>, and either the color's Pods (labelled with app and color; the guard
 * narrows them to the workload's own) or, for a pod request, the app's Deployments (to find the
 * color's).
 */
export interface GuardScope {
  app: string;
  color: string;
  reads: 'color-pods' | 'app-deployments';
}

function replicasOf(obj: unknown, absent: number): number {
  const r = (obj as { spec?: { replicas?: unknown } } | null | undefined)?.spec?.replicas;
  return typeof r === 'number' ? r : absent;
}

function templateOf(obj: unknown): unknown {
  return (obj as { spec?: { template?: unknown } } | null | undefined)?.spec?.template;
}

export function controllerDeploymentRef(rs: HasMetadata | null | undefined): V1OwnerReference | undefined {
  return rs?.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'Deployment' && o.apiVersion.startsWith('apps/'));
}

function skip(reason: NotGuarded['reason'], message: string): NotGuarded {
  return { guarded: false, reason, message };
}

// A review is classified once, though guardFetch, guardScope and planDeleteGuard each ask.
const classified = new WeakMap<AdmissionRequest, GuardedRequest | NotGuarded>();

/** Sorts a request into "the guard has nothing to say" or the action it is. Do not modify the result. */
export function classifyGuardRequest(req: AdmissionRequest): GuardedRequest | NotGuarded {
  let c = classified.get(req);
  if (!c) {
    c = classify(req);
    classified.set(req, c);
  }
  return c;
}

function classify(req: AdmissionRequest): GuardedRequest | NotGuarded {
  const { group, resource } = req.resource;
  const sub = req.subResource ?? '';
  const kind: WorkloadKind | undefined =
    group === 'apps' && resource === 'deployments'
      ? 'Deployment'
      : group === 'apps' && resource === 'replicasets'
        ? 'ReplicaSet'
        : group === '' && resource === 'pods'
          ? 'Pod'
          : undefined;
  if (!kind) return skip('not-guarded', `the guard covers Deployments, ReplicaSets and Pods, not ${resource}`);
  const namespace = req.namespace || 'default';
  if (kind === 'Pod') return classifyPod(req, namespace, sub);

  const old = (req.oldObject ?? undefined) as V1Deployment | V1ReplicaSet | undefined;
  const obj = (req.object ?? undefined) as V1Deployment | V1ReplicaSet | undefined;
  const name = req.name || old?.metadata?.name || obj?.metadata?.name || '';
  const ns = req.namespace || old?.metadata?.namespace || obj?.metadata?.namespace || 'default';

  if (req.operation === 'DELETE' && sub === '') {
    const g: GuardedRequest = { guarded: true, action: 'delete', kind, name, namespace: ns };
    if (old) g.workload = old;
    if (kind === 'Deployment' && !old) g.fetchDeployment = name;
    if (kind === 'ReplicaSet') addOwner(g, old);
    return g;
  }
  if (req.operation !== 'UPDATE') return skip('not-guarded', `${req.operation} of a ${kind} removes no pod`);

  if (sub === 'scale') {
    // autoscaling/v1 ScaleSpec.replicas is `omitempty`: a Scale to zero arrives as `spec: {}`.
    const from = replicasOf(req.oldObject, 0);
    const to = replicasOf(req.object, 0);
    if (!(to < from)) return skip('not-a-decrease', 'only a scale that lowers replicas is guarded');
    const g: GuardedRequest = {
      guarded: true,
      action: to === 0 ? 'scale-to-zero' : 'scale-down',
      kind,
      name,
      namespace: ns,
      replicas: { from, to },
    };
    if (kind === 'Deployment') g.fetchDeployment = name;
    else g.fetchReplicaSet = name;
    return g;
  }
  if (sub !== '') return skip('not-guarded', `updates of ${resource}/${sub} remove no pod`);

  // spec.replicas is defaulted to 1 by the API server; absent can only mean a hand-written review.
  const from = replicasOf(req.oldObject, 1);
  const to = replicasOf(req.object, 1);
  let action: GuardAction | undefined;
  if (to === 0 && from > 0) action = 'scale-to-zero';
  // A ReplicaSet's template change replaces nothing: only new pods would use it.
  else if (kind === 'Deployment' && to > 0 && old && obj && !isDeepStrictEqual(templateOf(old), templateOf(obj))) action = 'template-change';
  else if (to < from && to > 0) action = 'scale-down';
  if (!action) return skip('not-a-decrease', 'only an update that lowers spec.replicas or changes a Deployment\'s pod template is guarded');
  const g: GuardedRequest = { guarded: true, action, kind, name, namespace: ns };
  if (action !== 'template-change') g.replicas = { from, to };
  if (old) g.workload = old;
  if (obj) g.updated = obj;
  if (kind === 'ReplicaSet') addOwner(g, old ?? obj);
  return g;
}

function classifyPod(req: AdmissionRequest, namespace: string, sub: string): GuardedRequest | NotGuarded {
  const name = req.name || (req.oldObject as V1Pod | null | undefined)?.metadata?.name || '';
  if (req.operation === 'DELETE' && sub === '') {
    const g: GuardedRequest = { guarded: true, action: 'pod-delete', kind: 'Pod', name, namespace };
    const pod = (req.oldObject ?? undefined) as V1Pod | undefined;
    if (pod) g.pod = pod;
    else g.fetchPod = name;
    return g;
  }
  if (req.operation === 'CREATE' && sub === 'eviction') {
    return { guarded: true, action: 'pod-evict', kind: 'Pod', name, namespace, fetchPod: name };
  }
  return skip('not-guarded', `${req.operation} of pods${sub ? `/${sub}` : ''} removes no pod`);
}

function addOwner(g: GuardedRequest, rs: HasMetadata | null | undefined): void {
  const ref = controllerDeploymentRef(rs);
  if (ref) {
    g.ownerRef = ref;
    g.fetchDeployment = ref.name;
  }
}

/** What to read before planDeleteGuard; undefined when the request is not guarded (nothing to read). */
export function guardFetch(req: AdmissionRequest): GuardFetch | undefined {
  const g = classifyGuardRequest(req);
  if (!g.guarded) return undefined;
  const f: GuardFetch = { namespace: g.namespace };
  if (g.fetchDeployment) f.deploymentName = g.fetchDeployment;
  if (g.fetchReplicaSet) f.replicaSetName = g.fetchReplicaSet;
  if (g.fetchPod) f.podName = g.fetchPod;
  return f;
}

/** The request completed with what was fetched: the workload of a Scale, the pod of an Eviction. */
export function withFetched(g: GuardedRequest, fetched: GuardFetched): GuardedRequest {
  const out = { ...g };
  if (g.fetchReplicaSet && fetched.replicaSet) {
    out.workload = fetched.replicaSet;
    const ref = controllerDeploymentRef(fetched.replicaSet);
    if (ref) out.ownerRef = ref;
  }
  if (g.fetchPod && fetched.pod) out.pod = fetched.pod;
  return out;
}

/** The object whose labels name the app and color. */
function labelled(g: GuardedRequest, deployment: V1Deployment | null | undefined): HasMetadata | undefined {
  if (g.kind === 'Pod') return g.pod;
  if (g.workload) return g.workload;
  if (g.updated) return g.updated;
  return g.kind === 'Deployment' ? (deployment ?? undefined) : undefined;
}

/** The app and color acted on, or undefined when the object is not a rainbow color's. */
export function appAndColor(g: GuardedRequest, deployment: V1Deployment | null | undefined): { app: string; color: string } | undefined {
  const o = labelled(g, deployment);
  if (g.kind === 'Pod') {
    const app = labelOf(o, LABEL_APP);
    const color = labelOf(o, LABEL_COLOR);
    return app && color ? { app, color } : undefined;
  }
  const w = o as V1Deployment | V1ReplicaSet | undefined;
  if (!w) return undefined;
  const app = labelOf(w, LABEL_APP) || w.spec?.selector?.matchLabels?.[LABEL_APP];
  const color = colorOfDeployment(w as V1Deployment);
  return app && color ? { app, color } : undefined;
}

/** The app and color whose objects to read next; undefined when there is nothing to read. */
export function guardScope(req: AdmissionRequest, fetched: GuardFetched = {}): GuardScope | undefined {
  const c = classifyGuardRequest(req);
  if (!c.guarded) return undefined;
  const g = withFetched(c, fetched);
  const ac = appAndColor(g, fetched.deployment);
  if (!ac) return undefined;
  return { ...ac, reads: g.kind === 'Pod' ? 'app-deployments' : 'color-pods' };
}

/** The selector of the pods the workload runs. */
export function workloadSelector(w: V1Deployment | V1ReplicaSet | undefined, app: string, color: string): V1LabelSelector {
  const sel = w?.spec?.selector;
  if (sel && (Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0)) return sel;
  return { matchLabels: { [LABEL_APP]: app, [LABEL_COLOR]: color } };
}
