// Which pods a ReplicaSet's scale-down is sure to remove first: the ReplicaSet controller's first
// four sort keys, and nothing beyond them.
import { deletionCostOf, goesBefore, isActivePod, removalRank, scaleDownSafety, type CountedPod, type RemovalRank } from '../../../webhook/src/domain/removal-order.js';
import { pod } from '../../support/builders.js';

const rank = (name: string, over: Partial<RemovalRank> = {}): RemovalRank => ({ name, assigned: true, phase: 2, ready: true, deletionCost: 0, ...over });
const counted = (name: string, connections: number, over: Partial<RemovalRank> = {}): CountedPod => ({ rank: rank(name, over), connections });

describe('goesBefore', () => {
  it('orders by scheduling, phase, readiness, then deletion cost', () => {
    expect(goesBefore(rank('a', { assigned: false, deletionCost: 9 }), rank('b'))).toBe(true);
    expect(goesBefore(rank('a', { phase: 0, deletionCost: 9 }), rank('b'))).toBe(true);
    expect(goesBefore(rank('a', { ready: false, deletionCost: 9 }), rank('b'))).toBe(true);
    expect(goesBefore(rank('a', { deletionCost: -1 }), rank('b'))).toBe(true);
    expect(goesBefore(rank('b'), rank('a', { deletionCost: -1 }))).toBe(false);
  });

  it('does not guess between pods the first four keys leave equal', () => {
    expect(goesBefore(rank('a'), rank('b'))).toBe(false);
    expect(goesBefore(rank('b'), rank('a'))).toBe(false);
  });
});

describe('removalRank and the pod-deletion-cost annotation', () => {
  it('reads the cost as the ReplicaSet controller does: an int32, anything else is 0', () => {
    const withCost = (v: string) => pod({ name: 'p', annotations: { 'controller.kubernetes.io/pod-deletion-cost': v } });
    expect(deletionCostOf(withCost('42'))).toBe(42);
    expect(deletionCostOf(withCost('-7'))).toBe(-7);
    expect(deletionCostOf(withCost('1.5'))).toBe(0);
    expect(deletionCostOf(withCost('99999999999'))).toBe(0);
    expect(deletionCostOf(pod({ name: 'p' }))).toBe(0);
    expect(removalRank(pod({ name: 'p', phase: 'Pending', ip: null, node: null }))).toEqual({ name: 'p', assigned: false, phase: 0, ready: false, deletionCost: 0 });
  });

  it('counts only pods that are not terminating or finished', () => {
    expect(isActivePod(pod({ name: 'p' }))).toBe(true);
    expect(isActivePod(pod({ name: 'p', deleting: true }))).toBe(false);
    expect(isActivePod(pod({ name: 'p', phase: 'Succeeded' }))).toBe(false);
  });
});

describe('scaleDownSafety', () => {
  it('keeps a connected pod that enough pods are sure to precede', () => {
    const pods = [counted('a', 0), counted('b', 5, { deletionCost: 5 }), counted('c', 0), counted('d', 0)];
    expect(scaleDownSafety(pods, 1)).toMatchObject({ safe: true, removes: 3, atRisk: [], minSafeReplicas: 1 });
  });

  it('needs no rank for pods that are not removed, even when an empty pod outranks a connected one', () => {
    const pods = [counted('a', 0), counted('b', 5, { deletionCost: 5 }), counted('c', 0), counted('d', 0, { deletionCost: 10 })];
    expect(scaleDownSafety(pods, 2)).toMatchObject({ safe: true, removes: 2 });
    expect(scaleDownSafety(pods, 1)).toMatchObject({ safe: false, minSafeReplicas: 2 });
  });

  it('puts at risk connected pods with equal rank, and names the fewest replicas that are safe', () => {
    const pods = [counted('a', 0), counted('b', 1), counted('c', 0)];
    const s = scaleDownSafety(pods, 2);
    expect(s.safe).toBe(false);
    expect(s.atRisk.map((p) => p.rank.name)).toEqual(['b']);
    expect(s.minSafeReplicas).toBe(3);
  });

  it('is safe when nothing is removed or nothing is connected', () => {
    expect(scaleDownSafety([counted('a', 3)], 1).safe).toBe(true);
    expect(scaleDownSafety([counted('a', 0), counted('b', 0)], 1)).toMatchObject({ safe: true, removes: 1 });
  });
});
