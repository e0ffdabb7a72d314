// The guard's rules for everything short of deleting a color — a replica decrease to k > 0, a pod
// template change, a pod DELETE and an eviction — on the AdmissionReviews the real API server
// sent (test/fixtures/admission/recorded/, made by `scripts/local-cluster record-reviews`).
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseReview, type AdmissionRequest } from '../../../webhook/src/admission/review.js';
import type { Decision } from '../../../webhook/src/admission/responses.js';
import {
  decideFromCounts,
  guardFetch,
  guardScope,
  planDeleteGuard,
  type AskPodsPlan,
  type GuardPlan,
  type GuardSnapshot,
  type PodReport,
} from '../../../webhook/src/webhook/guard.js';
import { NEXT, SERVING, deployment, pod, service } from '../../support/builders.js';

const NS = 'record-reviews-mx56unyy';
const HASH = '68b7b4ff8f';
const RS_NAME = `web-${SERVING}-${HASH}`;
const DRAIN_STARTED = '2026-12-01T21:00:00Z';
const NOW = new Date('2026-12-01T22:00:00Z');
const STATUS = `kubectl rainbow status web -n ${NS}`;

function recorded(file: string, edit?: (r: AdmissionRequest) => void): AdmissionRequest {
  const raw = JSON.parse(readFileSync(new URL(`../../fixtures/admission/recorded/${file}`, import.meta.url), 'utf8'));
  const parsed = parseReview(raw);
  if (!parsed.ok) throw new Error(`${file}: ${parsed.error.message}`);
  edit?.(parsed.request);
  return parsed.request;
}

const inNs = <T extends { metadata?: { namespace?: string } }>(o: T): T => ({ ...o, metadata: { ...o.metadata, namespace: NS } });

/** The recorded color's Deployment, out of service since DRAIN_STARTED. */
function colorDeployment(over: { replicas?: number; annotations?: Record<string, string>; deleting?: boolean } = {}): V1Deployment {
  return inNs(deployment({ color: SERVING, replicas: over.replicas ?? 3, annotations: { 'rainbow.dev/drain-started': DRAIN_STARTED, ...(over.annotations ?? {}) }, ...(over.deleting ? { deleting: true } : {}) }));
}

function replicaSet(owner: V1Deployment, replicas: number): V1ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: RS_NAME,
      namespace: NS,
      labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': SERVING, 'pod-template-hash': HASH },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true }],
    },
    spec: { replicas, selector: { matchLabels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': SERVING, 'pod-template-hash': HASH } } },
  };
}

/** Pods a, b, c of the color; `cost` sets controller.kubernetes.io/pod-deletion-cost. */
function colorPod(name: string, o: { cost?: number; ready?: boolean; ip?: string } = {}): V1Pod {
  const annotations: Record<string, string> = o.cost === undefined ? {} : { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) };
  return inNs(pod({ name: `${RS_NAME}-${name}`, hash: HASH, ip: o.ip ?? `10.244.0.${name.charCodeAt(0)}`, annotations, ...(o.ready === undefined ? {} : { ready: o.ready }) }));
}

function snap(over: Partial<GuardSnapshot> = {}): GuardSnapshot {
  return { namespacePhase: 'Active', services: [inNs(service({ color: NEXT }))], pods: [], now: NOW, ...over };
}

function decidedOf(plan: GuardPlan): Decision {
  if (plan.kind !== 'decided') throw new Error(`expected a decision, got a plan to ask ${plan.pods.map((p) => p.name).join(', ')}`);
  return plan.decision;
}

function askOf(plan: GuardPlan): AskPodsPlan {
  if (plan.kind !== 'ask-pods') throw new Error(`expected pods to ask, got ${JSON.stringify(plan.decision)}`);
  return plan;
}

/** Reports with `counts` by pod suffix (a, b, c); pods not named read 0. */
function reports(plan: AskPodsPlan, counts: Record<string, number> = {}): PodReport[] {
  return plan.pods.map((t) => {
    const n = counts[t.name.slice(RS_NAME.length + 1)] ?? 0;
    return { name: t.name, ok: true, established: n, ports: { '8080': n } };
  });
}

describe('replica decrease to k > 0 (Deployment UPDATE 3 → 2, recorded)', () => {
  const req = () => recorded('deployment-update-replicas.json');

  it('reads the color\'s pods and needs no extra GET', () => {
    expect(guardFetch(req())).toEqual({ namespace: NS });
    expect(guardScope(req())).toEqual({ app: 'web', color: SERVING, reads: 'color-pods' });
  });

  it('lets the serving color scale as it likes (HPA, a user)', () => {
    const d = decidedOf(planDeleteGuard(req(), snap({ services: [inNs(service({ color: SERVING }))], pods: [colorPod('a')] })));
    expect(d).toMatchObject({ allowed: true, reason: 'serving' });
  });

  it('allows it when the connected pod ranks above the empty ones by pod-deletion-cost', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a', { cost: 0 }), colorPod('b', { cost: 4 }), colorPod('c', { cost: 0 })] })));
    expect(plan.scaleDown).toMatchObject({ to: 2 });
    const d = decideFromCounts(plan, reports(plan, { b: 4 }));
    expect(d).toMatchObject({ allowed: true, reason: 'connected-pods-kept' });
    expect(d.status?.message).toContain('the 1 pod removed hold no connections');
  });

  it('refuses it when the connected pod is not ranked above the empty ones, and says how far it may go', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a'), colorPod('b'), colorPod('c')] })));
    const d = decideFromCounts(plan, reports(plan, { b: 4 }));
    expect(d).toMatchObject({ allowed: false, reason: 'connections', status: { code: 403 } });
    const m = d.status!.message!;
    expect(m).toContain(`Refusing to scale Deployment ${NS}/web-${SERVING} (app web, color ${SERVING}) from 3 to 2 replicas`);
    expect(m).toContain(`${RS_NAME}-b: 4 (port 8080: 4)`);
    expect(m).toContain('controller.kubernetes.io/pod-deletion-cost');
    expect(m).toContain('Scale to at least 3');
    expect(m).toContain(`watch: ${STATUS}`);
    expect(m).toContain(`kubectl annotate deployment web-${SERVING} -n ${NS} rainbow.dev/force-delete=true`);
  });

  it('refuses it when more pods hold connections than would remain', () => {
    const r = recorded('deployment-update-replicas.json', (x) => ((x.object as V1Deployment).spec!.replicas = 1));
    const plan = askOf(planDeleteGuard(r, snap({ pods: [colorPod('a', { cost: 2 }), colorPod('b', { cost: 4 }), colorPod('c', { cost: 0 })] })));
    const d = decideFromCounts(plan, reports(plan, { a: 2, b: 4 }));
    expect(d.allowed).toBe(false);
    expect(d.status!.message).toContain('2 pods hold connections, more than 1. Scale to at least 2');
  });

  it('counts readiness before cost, as the ReplicaSet controller does: a connected pod that is not Ready goes first', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a', { cost: 0 }), colorPod('b', { cost: 9, ready: false }), colorPod('c', { cost: 0 })] })));
    expect(decideFromCounts(plan, reports(plan, { b: 1 })).allowed).toBe(false);
  });

  it('allows it when no pod holds a connection, and refuses when a pod cannot be asked', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a'), colorPod('b'), colorPod('c')] })));
    expect(decideFromCounts(plan, reports(plan))).toMatchObject({ allowed: true, reason: 'drained' });
    const broken: PodReport[] = [...reports(plan).slice(1), { name: plan.pods[0]!.name, ok: false, reason: 'network', error: 'connection refused' }];
    expect(decideFromCounts(plan, broken)).toMatchObject({ allowed: false, reason: 'unknown-pod' });
  });

  it('steps aside when forced, or past max-drain with a warning', () => {
    const forced = recorded('deployment-update-replicas.json', (x) => {
      (x.object as V1Deployment).metadata!.annotations = { 'rainbow.dev/force-delete': 'true' };
    });
    expect(decidedOf(planDeleteGuard(forced, snap({ pods: [colorPod('a')] })))).toMatchObject({ allowed: true, reason: 'forced' });
    const late = recorded('deployment-update-replicas.json', (x) => {
      (x.oldObject as V1Deployment).metadata!.annotations = { 'rainbow.dev/drain-started': '2026-11-28T00:00:00Z' };
    });
    const d = decidedOf(planDeleteGuard(late, snap({ pods: [colorPod('a')] })));
    expect(d).toMatchObject({ allowed: true, reason: 'max-drain' });
    expect(d.warnings?.[0]).toContain('past max-drain 48h');
  });

  it('gives a dry run the same answer', () => {
    const s = snap({ pods: [colorPod('a'), colorPod('b'), colorPod('c')] });
    const dry = recorded('deployment-update-replicas.json', (x) => (x.dryRun = true));
    expect(planDeleteGuard(dry, s)).toEqual(planDeleteGuard(req(), s));
  });
});

describe('Scales (recorded deployments/scale and replicasets/scale)', () => {
  it('lets a scale up through without reading anything', () => {
    const up = recorded('deployment-scale-subresource.json');
    expect(guardFetch(up)).toBeUndefined();
    expect(decidedOf(planDeleteGuard(up, snap()))).toEqual({ allowed: true, reason: 'not-a-decrease' });
  });

  it('guards a deployments/scale down with the fetched Deployment', () => {
    const down = recorded('deployment-scale-subresource.json', (x) => ((x.object as { spec: { replicas: number } }).spec.replicas = 1));
    expect(guardFetch(down)).toEqual({ namespace: NS, deploymentName: `web-${SERVING}` });
    const plan = askOf(planDeleteGuard(down, snap({ deployment: colorDeployment({ replicas: 2 }), pods: [colorPod('a'), colorPod('b')] })));
    expect(plan.subject).toMatchObject({ action: 'scale-down', replicas: { from: 2, to: 1 } });
    expect(decideFromCounts(plan, reports(plan, { a: 1 })).allowed).toBe(false);
  });

  it('reads a ReplicaSet\'s Scale target and its owner, and guards it below the owner\'s replicas', () => {
    const req = recorded('replicaset-scale-subresource.json');
    expect(guardFetch(req)).toEqual({ namespace: NS, replicaSetName: RS_NAME });
    const owner = colorDeployment({ replicas: 2 });
    expect(guardScope(req, { replicaSet: replicaSet(owner, 2), deployment: owner })).toEqual({ app: 'web', color: SERVING, reads: 'color-pods' });
    const plan = askOf(planDeleteGuard(req, snap({ replicaSet: replicaSet(owner, 2), deployment: owner, pods: [colorPod('a'), colorPod('b')] })));
    const d = decideFromCounts(plan, reports(plan, { a: 3, b: 1 }));
    expect(d.allowed).toBe(false);
    expect(d.status!.message).toContain(`Refusing to scale ReplicaSet ${NS}/${RS_NAME} (Deployment web-${SERVING}, app web, color ${SERVING}) from 2 to 1 replica`);
  });

  it('lets the Deployment controller follow its Deployment, whose own change the guard reviewed', () => {
    const owner = colorDeployment({ replicas: 1 });
    const d = decidedOf(planDeleteGuard(recorded('replicaset-scale-subresource.json'), snap({ replicaSet: replicaSet(owner, 2), deployment: owner })));
    expect(d).toMatchObject({ allowed: true, reason: 'follows-owner' });
  });

  it('allows a scale of a ReplicaSet that is not there', () => {
    expect(decidedOf(planDeleteGuard(recorded('replicaset-scale-subresource.json'), snap({ replicaSet: null })))).toMatchObject({ allowed: true, reason: 'not-found' });
  });
});

describe('pod template change (recorded Deployment UPDATE)', () => {
  const req = () => recorded('deployment-update-template.json');

  it('refuses it while any pod holds a connection: every pod would be replaced', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a', { cost: 9 }), colorPod('b')] })));
    expect(plan.scaleDown).toBeUndefined();
    const d = decideFromCounts(plan, reports(plan, { a: 2 }));
    expect(d).toMatchObject({ allowed: false, reason: 'connections', status: { code: 403 } });
    expect(d.status!.message).toContain(`Refusing to change the pod template of Deployment ${NS}/web-${SERVING} (app web, color ${SERVING}), which replaces every pod: 2 established connections still open`);
  });

  it('allows it once drained, and for the serving color', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pods: [colorPod('a'), colorPod('b')] })));
    expect(decideFromCounts(plan, reports(plan)).allowed).toBe(true);
    expect(decidedOf(planDeleteGuard(req(), snap({ services: [inNs(service({ color: SERVING }))] })))).toMatchObject({ allowed: true, reason: 'serving' });
  });

  it('is a template change only for Deployments: a ReplicaSet\'s new template replaces nothing', () => {
    const rs = recorded('deployment-update-template.json', (x) => (x.resource = { group: 'apps', version: 'v1', resource: 'replicasets' }));
    expect(decidedOf(planDeleteGuard(rs, snap()))).toMatchObject({ allowed: true, reason: 'not-a-decrease' });
  });
});

describe('pod DELETE (recorded)', () => {
  const req = () => recorded('pod-delete.json');
  const podName = `${RS_NAME}-6bbbv`;
  const withDeployment = (over: Partial<GuardSnapshot> = {}, d = colorDeployment()) => snap({ appDeployments: [d], ...over });

  it('reads the app\'s Deployments, not a pod: the review carries the pod', () => {
    expect(guardFetch(req())).toEqual({ namespace: NS });
    expect(guardScope(req())).toEqual({ app: 'web', color: SERVING, reads: 'app-deployments' });
  });

  it('refuses while the pod holds connections, and allows once it holds none', () => {
    const plan = askOf(planDeleteGuard(req(), withDeployment()));
    expect(plan.pods).toEqual([{ name: podName, ip: '10.244.0.19', port: 9471, path: '/connections' }]);
    const d = decideFromCounts(plan, [{ name: podName, ok: true, established: 2, ports: { '8080': 2 } }]);
    expect(d).toMatchObject({ allowed: false, reason: 'connections', status: { code: 403 } });
    expect(d.status!.message).toContain(`Refusing to delete pod ${NS}/${podName} (Deployment web-${SERVING}, app web, color ${SERVING}): 2 established connections still open`);
    expect(d.status!.message).toContain(`kubectl annotate pod ${podName} -n ${NS} rainbow.dev/force-delete=true`);
    expect(decideFromCounts(plan, [{ name: podName, ok: true, established: 0, ports: {} }])).toMatchObject({ allowed: true, reason: 'drained' });
  });

  it('leaves the serving color\'s pods to their normal lifecycle', () => {
    expect(decidedOf(planDeleteGuard(req(), withDeployment({ services: [inNs(service({ color: SERVING }))] })))).toMatchObject({ allowed: true, reason: 'serving' });
  });

  it('allows the kubelet\'s final DELETE, garbage collection of a deleted color, and a forced pod', () => {
    const again = recorded('pod-delete.json', (x) => ((x.oldObject as V1Pod).metadata!.deletionTimestamp = '2026-12-01T21:59:00Z' as unknown as Date));
    expect(decidedOf(planDeleteGuard(again, withDeployment()))).toMatchObject({ allowed: true, reason: 'already-deleting' });
    expect(decidedOf(planDeleteGuard(req(), snap({ appDeployments: [] })))).toMatchObject({ allowed: true, reason: 'owner-gone' });
    expect(decidedOf(planDeleteGuard(req(), withDeployment({}, colorDeployment({ deleting: true }))))).toMatchObject({ allowed: true, reason: 'owner-deleting' });
    const forced = recorded('pod-delete.json', (x) => ((x.oldObject as V1Pod).metadata!.annotations = { 'rainbow.dev/force-delete': 'true' }));
    expect(decidedOf(planDeleteGuard(forced, withDeployment()))).toMatchObject({ allowed: true, reason: 'forced' });
    expect(decidedOf(planDeleteGuard(req(), withDeployment({}, colorDeployment({ annotations: { 'rainbow.dev/force-delete': 'true' } }))))).toMatchObject({ allowed: true, reason: 'forced' });
  });

  it('allows past max-drain, with a warning', () => {
    const d = decidedOf(planDeleteGuard(req(), withDeployment({}, colorDeployment({ annotations: { 'rainbow.dev/drain-started': '2026-11-28T00:00:00Z' } }))));
    expect(d).toMatchObject({ allowed: true, reason: 'max-drain' });
    expect(d.warnings?.[0]).toContain('deleting the pod now, which cuts any connections still open');
  });
});

describe('eviction (recorded pods/eviction CREATE)', () => {
  const req = () => recorded('pod-eviction.json');
  const podName = `${RS_NAME}-jdzsj`;
  const evicted = () => inNs(pod({ name: podName, hash: HASH, ip: '10.244.0.20' }));

  it('fetches the pod: an Eviction names only the pod', () => {
    expect(guardFetch(req())).toEqual({ namespace: NS, podName });
    expect(guardScope(req())).toBeUndefined();
    expect(guardScope(req(), { pod: evicted() })).toEqual({ app: 'web', color: SERVING, reads: 'app-deployments' });
  });

  it('answers 429 while the pod holds connections, so that kubectl drain retries until it has none', () => {
    const plan = askOf(planDeleteGuard(req(), snap({ pod: evicted(), appDeployments: [colorDeployment()] })));
    const d = decideFromCounts(plan, [{ name: podName, ok: true, established: 1, ports: { '8080': 1 } }]);
    expect(d).toMatchObject({ allowed: false, reason: 'connections', status: { code: 429, reason: 'TooManyRequests' } });
    expect(d.status!.message).toContain(`Not evicting pod ${NS}/${podName} (Deployment web-${SERVING}, app web, color ${SERVING}) yet: 1 established connection still open`);
    expect(d.status!.message).toContain('The eviction is retried');
    const unknown = decideFromCounts(plan, [{ name: podName, ok: false, reason: 'network', error: 'timed out' }]);
    expect(unknown).toMatchObject({ allowed: false, reason: 'unknown-pod', status: { code: 429 } });
    expect(decideFromCounts(plan, [{ name: podName, ok: true, established: 0, ports: {} }]).allowed).toBe(true);
  });

  it('allows the eviction of a pod that is gone, not running, or not a color\'s', () => {
    expect(decidedOf(planDeleteGuard(req(), snap({ pod: null })))).toMatchObject({ allowed: true, reason: 'not-found' });
    const pending = inNs(pod({ name: podName, hash: HASH, phase: 'Pending', ip: null }));
    expect(decidedOf(planDeleteGuard(req(), snap({ pod: pending, appDeployments: [colorDeployment()] })))).toMatchObject({ allowed: true, reason: 'no-pods' });
    const other = { ...evicted(), metadata: { ...evicted().metadata, labels: { app: 'legacy' } } };
    expect(decidedOf(planDeleteGuard(req(), snap({ pod: other })))).toMatchObject({ allowed: true, reason: 'not-rainbow' });
  });
});
