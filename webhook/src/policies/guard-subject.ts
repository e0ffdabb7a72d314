// Which color a guarded request would stop, read from the request alone or with the one
// Deployment the request does not carry. Also tells the I/O layer what to fetch.
import type { V1Deployment, V1LabelSelector, V1OwnerReference, V1ReplicaSet } from '@kubernetes/client-node';
import { LABEL_APP, LABEL_COLOR } from '../contract.js';
import type { AdmissionRequest } from '../admission/review.js';
import { colorOfDeployment } from './availability.js';
import { labelOf, type HasMetadata } from './objects.js';

export type GuardAction = 'delete' | 'scale-to-zero';
export type WorkloadKind = 'Deployment' | 'ReplicaSet';

/** A request the guard looks at: a DELETE, or a replicas > 0 → 0 update. */
export interface GuardedRequest {
  guarded: true;
  action: GuardAction;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  /** The object as it is before the request (oldObject on DELETE and UPDATE); absent for deployments/scale. */
  workload?: V1Deployment | V1ReplicaSet;
  /** The object as the request would leave it (UPDATE only, not for deployments/scale). */
  updated?: V1Deployment | V1ReplicaSet;
  /** The Deployment to fetch: see GuardFetch. */
  fetchDeployment?: string;
  /** A ReplicaSet's controller reference to its Deployment. */
  ownerRef?: V1OwnerReference;
}

export interface NotGuarded {
  guarded: false;
  /** Metrics label. */
  reason: 'not-guarded' | 'not-scale-to-zero';
  message: string;
}

/** What the I/O layer must read for planDeleteGuard, besides the namespace and the lists of guardSelectors. */
export interface GuardFetch {
  namespace: string;
  /**
   * GET this Deployment in `namespace`, and pass it as snapshot.deployment (null when it is not
   * found). It is the Deployment being scaled for `deployments/scale` (a Scale carries no labels
   * or annotations), a ReplicaSet's owner, or the Deployment itself when a DELETE arrives without
   * oldObject.
   */
  deploymentName?: string;
}

/**
 * Whose objects planDeleteGuard needs: the Services labelled rainbow.dev/app=<app> and the Pods
 * labelled rainbow.dev/app=<app>,rainbow.dev/color=<color> (the guard narrows them to the
 * workload's own), in the request's namespace.
 */
export interface GuardScope {
  app: string;
  color: string;
}

function replicasOf(obj: unknown, absent: number): number {
  const r = (obj as { spec?: { replicas?: unknown } } | null | undefined)?.spec?.replicas;
  return typeof r === 'number' ? r : absent;
}

export function controllerDeploymentRef(rs: HasMetadata | undefined): V1OwnerReference | undefined {
  return rs?.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'Deployment' && o.apiVersion.startsWith('apps/'));
}

function skip(reason: NotGuarded['reason'], message: string): NotGuarded {
  return { guarded: false, reason, message };
}

/** Sorts a request into "the guard has nothing to say" or the color-stopping action it is. */
export function classifyGuardRequest(req: AdmissionRequest): GuardedRequest | NotGuarded {
  const { group, resource } = req.resource;
  const kind: WorkloadKind | undefined =
    group === 'apps' && resource === 'deployments' ? 'Deployment' : group === 'apps' && resource === 'replicasets' ? 'ReplicaSet' : undefined;
  if (!kind) return skip('not-guarded', `the delete guard covers Deployments and ReplicaSets, not ${resource}`);

  const old = (req.oldObject ?? undefined) as V1Deployment | V1ReplicaSet | undefined;
  const obj = (req.object ?? undefined) as V1Deployment | V1ReplicaSet | undefined;
  const name = req.name || old?.metadata?.name || obj?.metadata?.name || '';
  const namespace = req.namespace || old?.metadata?.namespace || obj?.metadata?.namespace || 'default';
  const sub = req.subResource ?? '';

  if (req.operation === 'DELETE' && sub === '') {
    const g: GuardedRequest = { guarded: true, action: 'delete', kind, name, namespace };
    if (old) g.workload = old;
    if (kind === 'Deployment' && !old) g.fetchDeployment = name;
    if (kind === 'ReplicaSet') addOwner(g, old);
    return g;
  }
  if (req.operation !== 'UPDATE') return skip('not-guarded', `${req.operation} never stops a color`);

  if (sub === 'scale') {
    // Only deployments/scale: a ReplicaSet's Scale names no owner, and scaling a Deployment's
    // current ReplicaSet is undone by the Deployment controller anyway.
    if (kind !== 'Deployment') return skip('not-guarded', 'replicasets/scale is not guarded');
    // autoscaling/v1 ScaleSpec.replicas is `omitempty`: a Scale to zero arrives as `spec: {}`.
    if (!(replicasOf(req.object, 0) === 0 && replicasOf(req.oldObject, 0) > 0)) {
      return skip('not-scale-to-zero', 'only a scale from replicas > 0 to 0 is guarded');
    }
    return { guarded: true, action: 'scale-to-zero', kind, name, namespace, fetchDeployment: name };
  }
  if (sub !== '') return skip('not-guarded', `updates of ${resource}/${sub} never stop a color`);

  // spec.replicas is defaulted to 1 by the API server; absent can only mean a hand-written review.
  if (!(replicasOf(req.object, 1) === 0 && replicasOf(req.oldObject, 1) > 0)) {
    return skip('not-scale-to-zero', 'only an update of spec.replicas from > 0 to 0 is guarded');
  }
  const g: GuardedRequest = { guarded: true, action: 'scale-to-zero', kind, name, namespace };
  if (old) g.workload = old;
  if (obj) g.updated = obj;
  if (kind === 'ReplicaSet') addOwner(g, old ?? obj);
  return g;
}

function addOwner(g: GuardedRequest, rs: HasMetadata | undefined): void {
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
  return g.fetchDeployment ? { namespace: g.namespace, deploymentName: g.fetchDeployment } : { namespace: g.namespace };
}

/**
 * The workload whose labels name the app and color: the object in the request, or the fetched
 * Deployment for deployments/scale.
 */
export function labelledWorkload(g: GuardedRequest, deployment: V1Deployment | null | undefined): V1Deployment | V1ReplicaSet | undefined {
  if (g.workload) return g.workload;
  if (g.updated) return g.updated;
  return g.kind === 'Deployment' ? (deployment ?? undefined) : undefined;
}

export function colorOfWorkload(w: V1Deployment | V1ReplicaSet): string | undefined {
  return colorOfDeployment(w as V1Deployment);
}

/** The app and color being stopped, or undefined when the workload is not a rainbow color. */
export function appAndColor(g: GuardedRequest, deployment: V1Deployment | null | undefined): { app: string; color: string } | undefined {
  const w = labelledWorkload(g, deployment);
  if (!w) return undefined;
  const app = labelOf(w, LABEL_APP) || w.spec?.selector?.matchLabels?.[LABEL_APP];
  const color = colorOfWorkload(w);
  return app && color ? { app, color } : undefined;
}

/** The app and color whose Services and Pods to read; undefined when there is nothing to read. */
export function guardScope(req: AdmissionRequest, deployment?: V1Deployment | null): GuardScope | undefined {
  const g = classifyGuardRequest(req);
  if (!g.guarded) return undefined;
  return appAndColor(g, deployment);
}

/** The selector of the pods the workload runs. */
export function workloadSelector(w: V1Deployment | V1ReplicaSet | undefined, app: string, color: string): V1LabelSelector {
  const sel = w?.spec?.selector;
  if (sel && (Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0)) return sel;
  return { matchLabels: { [LABEL_APP]: app, [LABEL_COLOR]: color } };
}
