// The AdmissionReviews of the scale benchmark, as kube-apiserver sends them to rainbow's webhook
// (the shapes of test/fixtures/admission/recorded/, which the local API server sent), built from
// the objects as the API server holds them. Pure.
//
// The mix is what reaches the webhook through the chart's webhook configurations in a cluster of
// many apps: Service updates that change the color (the chart's matchCondition drops the others),
// pod deletes and evictions (node drains, the ReplicaSet controller, operators), scale-downs
// (HPA on a serving color, the controller's shrink on a draining one) and deletes of draining
// colors. Reviews of a serving color are decided from the webhook's caches alone; those of a
// draining color ask its pods' reporters (1 pod, or all 5), so they include a reporter's answer.
// Evictions carry no labels, so evictions of pods that are not rainbow's reach the webhook too
// (the chart's evictions entry has no objectSelector): with foreign pods present they are a kind
// of their own.
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';

export type ReviewKind =
  | 'service-update-to-kept-color'
  | 'service-update-to-new-color'
  | 'pod-delete-serving'
  | 'pod-evict-serving'
  | 'scale-down-serving'
  | 'pod-delete-draining'
  | 'scale-down-draining'
  | 'delete-draining'
  | 'pod-evict-foreign';

export interface ReviewKindSpec {
  kind: ReviewKind;
  /** Share of the reviews (per 100). */
  weight: number;
  /** The answer the webhook must give (every pod holds connections, so a draining color is kept). */
  allowed: boolean;
  /** Pods whose reporters the webhook asks. */
  podsAsked: number;
  what: string;
}

export const REVIEW_MIX: readonly ReviewKindSpec[] = [
  { kind: 'service-update-to-kept-color', weight: 15, allowed: true, podsAsked: 0, what: 'Service UPDATE asking for the kept color (Available): a rollback, taken at once' },
  { kind: 'service-update-to-new-color', weight: 15, allowed: true, podsAsked: 0, what: 'Service UPDATE asking for a color without an Available Deployment (helm upgrade): kept on the serving color, pending-color patch and a warning' },
  { kind: 'pod-delete-serving', weight: 25, allowed: true, podsAsked: 0, what: 'pod DELETE of a serving color (ReplicaSet controller, operator): allowed, its normal lifecycle' },
  { kind: 'pod-evict-serving', weight: 15, allowed: true, podsAsked: 0, what: 'pods/eviction of a serving pod (node drain): the pod read from the cache, allowed' },
  { kind: 'scale-down-serving', weight: 10, allowed: true, podsAsked: 0, what: 'deployments/scale 5 → 4 of a serving color (HPA): allowed' },
  { kind: 'pod-delete-draining', weight: 10, allowed: false, podsAsked: 1, what: 'pod DELETE of a draining color: its reporter asked, refused (it holds connections)' },
  { kind: 'scale-down-draining', weight: 5, allowed: false, podsAsked: 5, what: 'Deployment UPDATE replicas 5 → 3 of a draining color: 5 reporters asked, refused' },
  { kind: 'delete-draining', weight: 5, allowed: false, podsAsked: 5, what: 'Deployment DELETE of a draining color: 5 reporters asked, refused' },
];

/** Only with foreign pods in the cluster: 10 more per 100 of the mix above. */
export const FOREIGN_KIND: ReviewKindSpec = {
  kind: 'pod-evict-foreign',
  weight: 10,
  allowed: true,
  podsAsked: 0,
  what: "pods/eviction of a pod that is not rainbow's (node drain): not in the webhook's caches, one GET to the API server, allowed",
};

/** Kinds in proportion to their weights, drawn with `rand` (uniform in [0, 1)). */
export function drawKinds(mix: readonly ReviewKindSpec[], n: number, rand: () => number): ReviewKind[] {
  const total = mix.reduce((s, k) => s + k.weight, 0);
  const out: ReviewKind[] = [];
  for (let i = 0; i < n; i++) {
    let x = rand() * total;
    let pick = mix[mix.length - 1]!;
    for (const k of mix) {
      if (x < k.weight) {
        pick = k;
        break;
      }
      x -= k.weight;
    }
    out.push(pick.kind);
  }
  return out;
}

const USER = {
  username: 'rainbow-admin',
  groups: ['system:masters', 'system:authenticated'],
};

type Gvk = { group: string; version: string; kind: string };
type Gvr = { group: string; version: string; resource: string };

interface RequestParts {
  uid: string;
  kind: Gvk;
  resource: Gvr;
  subResource?: string;
  name: string;
  namespace: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  object: unknown;
  oldObject: unknown;
  options: Record<string, unknown>;
}

function review(p: RequestParts): string {
  const request = {
    uid: p.uid,
    kind: p.kind,
    resource: p.resource,
    ...(p.subResource ? { subResource: p.subResource } : {}),
    requestKind: p.kind,
    requestResource: p.resource,
    ...(p.subResource ? { requestSubResource: p.subResource } : {}),
    name: p.name,
    namespace: p.namespace,
    operation: p.operation,
    userInfo: USER,
    object: p.object,
    oldObject: p.oldObject,
    dryRun: false,
    options: p.options,
  };
  return JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request });
}

const POD: Gvk = { group: '', version: 'v1', kind: 'Pod' };
const PODS: Gvr = { group: '', version: 'v1', resource: 'pods' };
const DEPLOYMENT: Gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const DEPLOYMENTS: Gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata!.name!;
const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata!.namespace!;

/** Helm's update of the app's Service asking for `color` (the rest of the Service as the API server has it). */
export function serviceUpdateReview(uid: string, svc: V1Service, color: string): string {
  const object = structuredClone(svc);
  object.spec!.selector = { ...object.spec!.selector, 'rainbow.dev/color': color };
  return review({
    uid,
    kind: { group: '', version: 'v1', kind: 'Service' },
    resource: { group: '', version: 'v1', resource: 'services' },
    name: nameOf(svc),
    namespace: nsOf(svc),
    operation: 'UPDATE',
    object,
    oldObject: svc,
    options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'helm' },
  });
}

export function podDeleteReview(uid: string, pod: V1Pod): string {
  return review({
    uid,
    kind: POD,
    resource: PODS,
    name: nameOf(pod),
    namespace: nsOf(pod),
    operation: 'DELETE',
    object: null,
    oldObject: pod,
    options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' },
  });
}

export function podEvictionReview(uid: string, pod: V1Pod): string {
  return review({
    uid,
    kind: { group: 'policy', version: 'v1', kind: 'Eviction' },
    resource: PODS,
    subResource: 'eviction',
    name: nameOf(pod),
    namespace: nsOf(pod),
    operation: 'CREATE',
    object: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: nameOf(pod), namespace: nsOf(pod) } },
    oldObject: null,
    options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  });
}

/** An HPA's scale through deployments/scale: a Scale carries no labels, only status.selector. */
export function deploymentScaleReview(uid: string, d: V1Deployment, to: number): string {
  const m = d.metadata!;
  const selector = Object.entries(d.spec!.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const scale = (replicas: number) => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas },
    status: { replicas: d.status?.replicas ?? 0, selector },
  });
  return review({
    uid,
    kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    resource: DEPLOYMENTS,
    subResource: 'scale',
    name: nameOf(d),
    namespace: nsOf(d),
    operation: 'UPDATE',
    object: scale(to),
    oldObject: scale(d.spec?.replicas ?? 1),
    options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' },
  });
}

export function deploymentReplicasReview(uid: string, d: V1Deployment, to: number): string {
  const object = structuredClone(d);
  object.spec!.replicas = to;
  object.metadata!.generation = (d.metadata?.generation ?? 1) + 1;
  return review({
    uid,
    kind: DEPLOYMENT,
    resource: DEPLOYMENTS,
    name: nameOf(d),
    namespace: nsOf(d),
    operation: 'UPDATE',
    object,
    oldObject: d,
    options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-scale' },
  });
}

export function deploymentDeleteReview(uid: string, d: V1Deployment): string {
  return review({
    uid,
    kind: DEPLOYMENT,
    resource: DEPLOYMENTS,
    name: nameOf(d),
    namespace: nsOf(d),
    operation: 'DELETE',
    object: null,
    oldObject: d,
    options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' },
  });
}

/** Which path of the webhook a kind is POSTed to. */
export const reviewPath = (kind: ReviewKind) => (kind.startsWith('service-') ? '/mutate/services' : '/validate/deployments');

/** An app's objects as the API server has them, by role. */
export interface AppObjects {
  service: V1Service;
  serving: { deployment: V1Deployment; pods: V1Pod[] };
  kept: { deployment: V1Deployment; pods: V1Pod[] };
  draining: { deployment: V1Deployment; pods: V1Pod[] };
}

const drainStarted = (d: V1Deployment) => Date.parse(d.metadata?.annotations?.['rainbow.dev/drain-started'] ?? '') || 0;

/**
 * Sorts an app's Deployments and pods into serving (the Service's color), kept (the previous
 * color most recently out of service) and draining (the oldest previous one); undefined when the
 * app does not have those three.
 */
export function appObjects(service: V1Service, deployments: readonly V1Deployment[], pods: readonly V1Pod[]): AppObjects | undefined {
  const servingColor = service.spec?.selector?.['rainbow.dev/color'];
  const colorOf = (o: { metadata?: { labels?: Record<string, string> } }) => o.metadata?.labels?.['rainbow.dev/color'];
  const serving = deployments.find((d) => colorOf(d) === servingColor);
  const previous = deployments.filter((d) => colorOf(d) !== servingColor).sort((a, b) => drainStarted(b) - drainStarted(a));
  if (!serving || previous.length < 2) return undefined;
  const withPods = (d: V1Deployment) => ({ deployment: d, pods: pods.filter((p) => colorOf(p) === colorOf(d)) });
  return { service, serving: withPods(serving), kept: withPods(previous[0]!), draining: withPods(previous[previous.length - 1]!) };
}

/** The review of `kind` for an app (or, for pod-evict-foreign, for a foreign pod); `pick` chooses among pods. */
export function reviewFor(kind: ReviewKind, uid: string, app: AppObjects | undefined, foreignPod: V1Pod | undefined, pick: <T>(xs: readonly T[]) => T): string {
  if (kind === 'pod-evict-foreign') {
    if (!foreignPod) throw new Error('pod-evict-foreign needs a foreign pod');
    return podEvictionReview(uid, foreignPod);
  }
  if (!app) throw new Error(`${kind} needs an app`);
  switch (kind) {
    case 'service-update-to-kept-color':
      return serviceUpdateReview(uid, app.service, app.kept.deployment.metadata!.labels!['rainbow.dev/color']!);
    case 'service-update-to-new-color':
      return serviceUpdateReview(uid, app.service, 'fe0000');
    case 'pod-delete-serving':
      return podDeleteReview(uid, pick(app.serving.pods));
    case 'pod-evict-serving':
      return podEvictionReview(uid, pick(app.serving.pods));
    case 'scale-down-serving':
      return deploymentScaleReview(uid, app.serving.deployment, (app.serving.deployment.spec?.replicas ?? 1) - 1);
    case 'pod-delete-draining':
      return podDeleteReview(uid, pick(app.draining.pods));
    case 'scale-down-draining':
      return deploymentReplicasReview(uid, app.draining.deployment, Math.max(1, (app.draining.deployment.spec?.replicas ?? 1) - 2));
    case 'delete-draining':
      return deploymentDeleteReview(uid, app.draining.deployment);
  }
}
