// Which pods a ReplicaSet removes when it scales down, as far as it can be known in advance.
// The ReplicaSet controller sorts its active pods and removes the first ones; its first four keys
// are: unassigned before assigned, Pending before Unknown before Running, not Ready before Ready,
// lower controller.kubernetes.io/pod-deletion-cost before higher. Later keys (pods doubled up on a
// node, time Ready, restarts, age) are not predicted: a pod is only known to go before another
// when one of the first four keys says so. The guard and the controller's shrink both decide here.
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_POD_DELETION_COST } from './contract.js';
import { annotationOf, isBeingDeleted } from './objects.js';

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** A pod as the ReplicaSet controller ranks it. */
export interface RemovalRank {
  name: string;
  assigned: boolean;
  phase: number;
  ready: boolean;
  deletionCost: number;
}

/** The pod's deletion cost as the ReplicaSet controller reads it: an int32, anything else counts as 0. */
export function deletionCostOf(pod: V1Pod): number {
  const raw = annotationOf(pod, ANNOTATION_POD_DELETION_COST);
  if (raw === undefined || !/^[-+]?\d+$/.test(raw)) return 0;
  const n = Number(raw);
  return n >= INT32_MIN && n <= INT32_MAX ? n : 0;
}

export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Pods the ReplicaSet controller counts and may remove: not terminating, not Succeeded or Failed. */
export function isActivePod(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return !isBeingDeleted(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}

export function removalRank(pod: V1Pod): RemovalRank {
  return {
    name: pod.metadata?.name ?? '(unnamed)',
    assigned: Boolean(pod.spec?.nodeName),
    phase: PHASE_ORDER[pod.status?.phase ?? ''] ?? 0,
    ready: isPodReady(pod),
    deletionCost: deletionCostOf(pod),
  };
}

/** True when the ReplicaSet controller is sure to remove `a` before `b`. */
export function goesBefore(a: RemovalRank, b: RemovalRank): boolean {
  if (a.assigned !== b.assigned) return !a.assigned;
  if (a.phase !== b.phase) return a.phase < b.phase;
  if (a.ready !== b.ready) return !a.ready;
  return a.deletionCost < b.deletionCost;
}

/** A pod with its count: connections > 0 must survive a scale-down. */
export interface CountedPod {
  rank: RemovalRank;
  connections: number;
}

export interface ScaleDownSafety {
  /** Scaling the active pods to `replicas` removes no pod that holds connections. */
  safe: boolean;
  /** How many pods the scale-down removes. */
  removes: number;
  /** The connected pods that may be among the removed ones. */
  atRisk: CountedPod[];
  /** The fewest replicas that remove no connected pod (the active count when none is safe). */
  minSafeReplicas: number;
}

/**
 * Whether scaling `pods` (the workload's active pods) down to `replicas` keeps every connected
 * pod: a connected pod survives when at least as many pods as are removed are sure to go before it.
 */
export function scaleDownSafety(pods: readonly CountedPod[], replicas: number): ScaleDownSafety {
  const removes = Math.max(0, pods.length - replicas);
  const connected = pods.filter((p) => p.connections > 0);
  const before = (c: CountedPod) => pods.filter((p) => p !== c && goesBefore(p.rank, c.rank)).length;
  const fewestBefore = connected.length > 0 ? Math.min(...connected.map(before)) : pods.length;
  const atRisk = removes === 0 ? [] : connected.filter((c) => before(c) < removes);
  return { safe: atRisk.length === 0, removes, atRisk, minSafeReplicas: pods.length - fewestBefore };
}
