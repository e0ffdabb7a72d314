import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
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
import type { AdmissionRequest } from '../../../webhook/src/admission/review.js';
import type { Decision } from '../../../webhook/src/admission/responses.js';
import { NEXT, NS, SERVING, SERVING_UID, deployment, loadRequest, pod, service } from '../../support/builders.js';

const DELETE = 'deployment-delete.json';
const HASH = '7b9c6d5f4';
const POD_A = `web-${SERVING}-${HASH}-q9z4m`;
const POD_B = `web-${SERVING}-${HASH}-x2k8p`;
const DRAIN_STARTED = Date.parse('2025-11-26T10:02:11Z');
const hours = (h: number) => new Date(DRAIN_STARTED + h * 3600_000);

const SUBJECT = `Deployment ${NS}/web-${SERVING} (app web, color ${SERVING})`;
const FORCE = `kubectl annotate deployment web-${SERVING} -n ${NS} rainbow.dev/force-delete=true`;
const STATUS = `kubectl rainbow status web -n ${NS}`;

/** The color's Deployment as a client-node read returns it (what guardFetch asks for). */
const servingDeployment = (over: Parameters<typeof deployment>[0] | object = {}) =>
  deployment({ color: SERVING, uid: SERVING_UID, annotations: { 'rainbow.dev/drain-started': '2025-11-26T10:02:11Z' }, ...over });

function snap(over: Partial<GuardSnapshot> = {}): GuardSnapshot {
  return {
    namespacePhase: 'Active',
    services: [service({ color: NEXT })],
    pods: [pod({ name: POD_B, ip: '127.0.10.12', hash: HASH }), pod({ name: POD_A, ip: '127.0.10.11', hash: HASH })],
    now: hours(2),
    ...over,
  };
}

function decidedOf(plan: GuardPlan): Decision {
  if (plan.kind !== 'decided') throw new Error(`expected a decision, got a plan to ask ${plan.pods.map((p) => p.name).join(', ')}`);
  return plan.decision;
}

function askOf(plan: GuardPlan): AskPodsPlan {
  if (plan.kind !== 'ask-pods') throw new Error(`expected pods to ask, got ${JSON.stringify(plan.decision)}`);
  return plan;
}

const oldDeployment = (r: AdmissionRequest) => r.oldObject as unknown as V1Deployment;
const zero = (p: string): PodReport => ({ name: p, ok: true, established: 0, ports: { '8080': 0, '8081': 0 } });

describe('delete guard: requests it does not look at', () => {
  it('allows requests on other resources', () => {
    const req = loadRequest('service-update-new-color.json');
    expect(decidedOf(planDeleteGuard(req, snap()))).toEqual({ allowed: true, reason: 'not-guarded' });
    expect(guardFetch(req)).toBeUndefined();
  });

  it('allows CREATE, status updates, and updates that keep replicas above zero', () => {
    const create = loadRequest('deployment-update-replicas-zero.json', (r) => {
      r.operation = 'CREATE';
      r.oldObject = null;
    });
    expect(decidedOf(planDeleteGuard(create, snap()))).toEqual({ allowed: true, reason: 'not-guarded' });

    const status = loadRequest('deployment-update-replicas-zero.json', (r) => (r.subResource = 'status'));
    expect(decidedOf(planDeleteGuard(status, snap()))).toEqual({ allowed: true, reason: 'not-guarded' });

    const toThree = loadRequest('deployment-update-replicas-zero.json', (r) => ((r.object as unknown as V1Deployment).spec!.replicas = 3));
    expect(decidedOf(planDeleteGuard(toThree, snap()))).toEqual({ allowed: true, reason: 'not-a-decrease' });

    const zeroToZero = loadRequest('deployment-update-replicas-zero.json', (r) => (oldDeployment(r).spec!.replicas = 0));
    expect(decidedOf(planDeleteGuard(zeroToZero, snap()))).toEqual({ allowed: true, reason: 'not-a-decrease' });
  });

  it('allows a scale that does not lower replicas', () => {
    const same = loadRequest('deployment-scale-zero.json', (r) => ((r.object as { spec: object }).spec = (r.oldObject as { spec: object }).spec));
    expect(decidedOf(planDeleteGuard(same, snap()))).toEqual({ allowed: true, reason: 'not-a-decrease' });
    expect(guardFetch(same)).toBeUndefined();
  });

  it('allows workloads that are not rainbow colors', () => {
    const req = loadRequest(DELETE, (r) => {
      oldDeployment(r).metadata!.labels = { app: 'legacy' };
      delete oldDeployment(r).spec!.selector.matchLabels!['rainbow.dev/app'];
    });
    const d = decidedOf(planDeleteGuard(req, snap()));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('not-rainbow');
    expect(guardScope(req)).toBeUndefined();
  });
});

describe('delete guard: what the caller fetches', () => {
  it('needs no Deployment for a Deployment DELETE or update, which carry it', () => {
    expect(guardFetch(loadRequest(DELETE))).toEqual({ namespace: NS });
    expect(guardFetch(loadRequest('deployment-update-replicas-zero.json'))).toEqual({ namespace: NS });
    expect(guardScope(loadRequest(DELETE))).toEqual({ app: 'web', color: SERVING, reads: 'color-pods' });
  });

  it('needs the scaled Deployment for deployments/scale, whose Scale has no labels', () => {
    const req = loadRequest('deployment-scale-zero.json');
    expect(guardFetch(req)).toEqual({ namespace: NS, deploymentName: `web-${SERVING}` });
    expect(guardScope(req)).toBeUndefined();
    expect(guardScope(req, { deployment: servingDeployment() })).toEqual({ app: 'web', color: SERVING, reads: 'color-pods' });
  });

  it('needs the owner Deployment for a ReplicaSet', () => {
    expect(guardFetch(loadRequest('replicaset-delete-by-gc.json'))).toEqual({ namespace: NS, deploymentName: `web-${SERVING}` });
    expect(guardFetch(loadRequest('replicaset-scale-down-by-rollout.json'))).toEqual({ namespace: NS, deploymentName: `web-${SERVING}` });
  });
});

describe('delete guard rule 1: force annotation', () => {
  it('allows a forced delete with a warning, even while serving', () => {
    const req = loadRequest(DELETE, (r) => (oldDeployment(r).metadata!.annotations!['rainbow.dev/force-delete'] = 'true'));
    const d = decidedOf(planDeleteGuard(req, snap({ services: [service({ color: SERVING })] })));
    expect(d).toEqual({
      allowed: true,
      reason: 'forced',
      warnings: [`${SUBJECT} has rainbow.dev/force-delete=true: deleting it without checking connections; any still open will be cut`],
    });
  });

  it('reads the force annotation from the Deployment for deployments/scale', () => {
    const req = loadRequest('deployment-scale-zero.json');
    const forced = servingDeployment({ annotations: { 'rainbow.dev/force-delete': 'true' } });
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: forced })));
    expect(d.reason).toBe('forced');
    expect(d.warnings).toEqual([
      `${SUBJECT} has rainbow.dev/force-delete=true: scaling it to 0 without checking connections; any still open will be cut`,
    ]);
  });

  it('honours force set in the same update that scales to zero', () => {
    const req = loadRequest('deployment-update-replicas-zero.json', (r) => {
      (r.object as unknown as V1Deployment).metadata!.annotations!['rainbow.dev/force-delete'] = 'true';
    });
    expect(decidedOf(planDeleteGuard(req, snap())).reason).toBe('forced');
  });

  it('does not force on any other value, and says so', () => {
    const req = loadRequest(DELETE, (r) => (oldDeployment(r).metadata!.annotations!['rainbow.dev/force-delete'] = 'yes'));
    const d = decidedOf(planDeleteGuard(req, snap({ services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('serving');
    expect(d.warnings).toEqual(['rainbow.dev/force-delete="yes" is ignored; only "true" forces']);
  });
});

describe('delete guard rule 2: namespace terminating, ReplicaSet owner gone or being deleted', () => {
  it('allows anything in a terminating namespace, even a serving color', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ namespacePhase: 'Terminating', services: [service({ color: SERVING })] })));
    expect(d).toEqual({ allowed: true, reason: 'namespace-terminating', status: { code: 200, message: `namespace ${NS} is terminating` } });
  });

  it('allows the garbage collector to delete a ReplicaSet whose Deployment is gone', () => {
    const req = loadRequest('replicaset-delete-by-gc.json');
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: null, services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('owner-gone');
    expect(d.status?.message).toBe(
      `the owner Deployment web-${SERVING} of ReplicaSet ${NS}/web-${SERVING}-${HASH} (app web, color ${SERVING}) is gone`,
    );
  });

  it('treats a Deployment re-created under the same name as gone (uid differs)', () => {
    const req = loadRequest('replicaset-delete-by-gc.json');
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: servingDeployment({ uid: 'another-uid' }) })));
    expect(d.reason).toBe('owner-gone');
  });

  it('allows deleting a ReplicaSet whose Deployment is being deleted (foreground deletion)', () => {
    const req = loadRequest('replicaset-delete-by-gc.json');
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: servingDeployment({ deleting: true }), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('owner-deleting');
  });

  it('guards a ReplicaSet whose Deployment is alive like the color itself', () => {
    const req = loadRequest('replicaset-delete-by-gc.json');
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: servingDeployment(), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('serving');
    expect(d.status?.message).toBe(
      `Refusing to delete ReplicaSet ${NS}/web-${SERVING}-${HASH} (Deployment web-${SERVING}, app web, color ${SERVING}): ` +
        `color ${SERVING} is serving Service web (spec.selector rainbow.dev/color=${SERVING}); deleting it would leave it without endpoints. ` +
        `Deploy another color and let the Service move to it (watch: ${STATUS}), or force: ${FORCE}`,
    );
  });
});

describe('delete guard: ReplicaSets retired by their own Deployment (our choice)', () => {
  const ROLLOUT = 'replicaset-scale-down-by-rollout.json';
  const owner = (revision: string, replicas = 2) =>
    servingDeployment({ replicas, annotations: { 'deployment.kubernetes.io/revision': revision } });

  it('allows the Deployment controller to scale an old revision to zero during a rollout', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(ROLLOUT), snap({ deployment: owner('2'), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('rollout');
    expect(d.status?.message).toBe(
      `ReplicaSet ${NS}/web-${SERVING}-${HASH} (revision 1) is being replaced by the rollout of Deployment web-${SERVING} (revision 2)`,
    );
  });

  it('guards scaling the current revision to zero (kubectl scale deployment reaching the ReplicaSet)', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(ROLLOUT), snap({ deployment: owner('1'), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('serving');
    expect(d.status?.message).toMatch(/^Refusing to scale ReplicaSet shop\/web-3c3fdc-7b9c6d5f4 \(Deployment web-3c3fdc, app web, color 3c3fdc\) to 0: /);
  });

  it('guards any ReplicaSet once its Deployment is at zero, and asks its pods', () => {
    const plan = askOf(planDeleteGuard(loadRequest(ROLLOUT), snap({ deployment: owner('2', 0) })));
    expect(plan.pods.map((p) => p.name)).toEqual([POD_A, POD_B]);
  });

  it('allows deleting a ReplicaSet that is already at zero replicas (revision history cleanup)', () => {
    const req = loadRequest('replicaset-delete-by-gc.json', (r) => ((r.oldObject as unknown as V1ReplicaSet).spec!.replicas = 0));
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: servingDeployment(), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('no-pods');
  });

  it('asks only the ReplicaSet\'s own pods (its selector includes pod-template-hash)', () => {
    const pods = [
      pod({ name: POD_A, ip: '127.0.10.11', hash: HASH }),
      pod({ name: `web-${SERVING}-5f6d7c8b9-newer`, ip: '127.0.10.13', hash: '5f6d7c8b9' }),
    ];
    const plan = askOf(planDeleteGuard(loadRequest(ROLLOUT), snap({ deployment: owner('1', 0), pods })));
    expect(plan.pods.map((p) => p.name)).toEqual([POD_A]);
  });
});

describe('delete guard: odd shapes of request', () => {
  it('reads a Deployment DELETE that arrives without oldObject from the fetched Deployment', () => {
    const req = loadRequest(DELETE, (r) => delete r.oldObject);
    expect(guardFetch(req)).toEqual({ namespace: NS, deploymentName: `web-${SERVING}` });
    const d = decidedOf(planDeleteGuard(req, snap({ deployment: servingDeployment(), services: [service({ color: SERVING })] })));
    expect(d.reason).toBe('serving');
  });

  it('guards a ReplicaSet with no owner (e.g. orphaned by --cascade=orphan) as a color of its own', () => {
    const req = loadRequest('replicaset-delete-by-gc.json', (r) => delete (r.oldObject as unknown as V1ReplicaSet).metadata!.ownerReferences);
    expect(guardFetch(req)).toEqual({ namespace: NS });
    const d = decidedOf(planDeleteGuard(req, snap({ services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.status?.message).toBe(
      `Refusing to delete ReplicaSet ${NS}/web-${SERVING}-${HASH} (app web, color ${SERVING}): ` +
        `color ${SERVING} is serving Service web (spec.selector rainbow.dev/color=${SERVING}); deleting it would leave it without endpoints. ` +
        `Deploy another color and let the Service move to it (watch: ${STATUS}), or force: kubectl annotate replicaset web-${SERVING}-${HASH} -n ${NS} rainbow.dev/force-delete=true`,
    );
  });
});

describe('delete guard rule 3: a serving color is never stopped', () => {
  it('denies deleting the color a Service selects, saying how to proceed', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [service({ color: SERVING }), service({ name: 'web-tcp', color: SERVING })] })));
    expect(d).toEqual({
      allowed: false,
      reason: 'serving',
      status: {
        status: 'Failure',
        code: 403,
        reason: 'Forbidden',
        message:
          `Refusing to delete ${SUBJECT}: color ${SERVING} is serving Services web, web-tcp (spec.selector rainbow.dev/color=${SERVING}); ` +
          `deleting it would leave them without endpoints. Deploy another color and let the Service move to it (watch: ${STATUS}), or force: ${FORCE}`,
      },
    });
  });

  it('denies even past max-drain and with no running pods (serving comes first)', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [service({ color: SERVING })], pods: [], now: hours(100) })));
    expect(d.reason).toBe('serving');
  });

  it('ignores Services of other apps selecting the same color name', () => {
    const plan = planDeleteGuard(loadRequest(DELETE), snap({ services: [service({ name: 'api', app: 'api', color: SERVING })] }));
    expect(plan.kind).toBe('ask-pods');
  });

  it('denies scaling a serving color to zero through deployments/scale', () => {
    const d = decidedOf(planDeleteGuard(loadRequest('deployment-scale-zero.json'), snap({ deployment: servingDeployment(), services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.status?.message).toBe(
      `Refusing to scale ${SUBJECT} to 0: color ${SERVING} is serving Service web (spec.selector rainbow.dev/color=${SERVING}); ` +
        `scaling it to 0 would leave it without endpoints. Deploy another color and let the Service move to it (watch: ${STATUS}), or force: ${FORCE}`,
    );
  });

  it('denies an update of spec.replicas to zero of a serving color', () => {
    const d = decidedOf(planDeleteGuard(loadRequest('deployment-update-replicas-zero.json'), snap({ services: [service({ color: SERVING })] })));
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('serving');
  });

  it('warns when the color is some Service\'s pending color', () => {
    const plan = askOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [service({ color: NEXT, pending: SERVING })] })));
    expect(plan.warnings).toEqual([
      `Service web is waiting to switch to color ${SERVING} (rainbow.dev/pending-color); it will keep serving ${NEXT}`,
    ]);
  });
});

describe('delete guard rule 4: past max-drain', () => {
  it('allows with a warning once the default 48h have passed since drain-started', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ now: hours(49) })));
    expect(d).toEqual({
      allowed: true,
      reason: 'max-drain',
      warnings: [
        `${SUBJECT} has been out of service since 2025-11-26T10:02:11Z (49h), past max-drain 48h: deleting it now, which cuts any connections still open`,
      ],
    });
  });

  it('asks the pods before max-drain', () => {
    expect(planDeleteGuard(loadRequest(DELETE), snap({ now: hours(47) })).kind).toBe('ask-pods');
  });

  it('uses the Service\'s rainbow.dev/max-drain, the longest when the app has several', () => {
    const short = service({ color: NEXT, annotations: { 'rainbow.dev/max-drain': '1h30m' } });
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [short], now: hours(2) })));
    expect(d.reason).toBe('max-drain');
    expect(d.warnings![0]).toContain('(2h), past max-drain 1h30m');

    const patient = service({ name: 'web-tcp', color: NEXT, annotations: { 'rainbow.dev/max-drain': '72h' } });
    expect(planDeleteGuard(loadRequest(DELETE), snap({ services: [short, patient], now: hours(49) })).kind).toBe('ask-pods');
  });

  it('an app without a Service (uninstalled): the max-drain the controller kept on the color (rainbow.dev/drain-settings), else 48h; connections are asked before it', () => {
    const kept = (r: AdmissionRequest) => {
      const annotations = ((r.oldObject as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ??= {});
      annotations['rainbow.dev/drain-settings'] = JSON.stringify({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 3600, shrink: true });
    };
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE, kept), snap({ services: [], now: hours(1) })));
    expect(d.reason).toBe('max-drain');
    expect(d.warnings![0]).toContain('(1h), past max-drain 1h');
    expect(askOf(planDeleteGuard(loadRequest(DELETE, kept), snap({ services: [], now: hours(0.9) }))).pods.map((p) => p.name)).toEqual([POD_A, POD_B]);
    expect(planDeleteGuard(loadRequest(DELETE), snap({ services: [], now: hours(47) })).kind).toBe('ask-pods');
    expect(decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [], now: hours(48) }))).reason).toBe('max-drain');
  });

  it('reads drain-started from the fetched Deployment for deployments/scale', () => {
    const d = decidedOf(planDeleteGuard(loadRequest('deployment-scale-zero.json'), snap({ deployment: servingDeployment(), now: hours(49) })));
    expect(d.reason).toBe('max-drain');
  });

  it('does not apply max-drain without drain-started, or with a bad one or a bad max-drain (warning)', () => {
    const none = loadRequest(DELETE, (r) => delete oldDeployment(r).metadata!.annotations!['rainbow.dev/drain-started']);
    expect(planDeleteGuard(none, snap({ now: hours(100) })).kind).toBe('ask-pods');

    const bad = loadRequest(DELETE, (r) => (oldDeployment(r).metadata!.annotations!['rainbow.dev/drain-started'] = 'yesterday'));
    const plan = askOf(planDeleteGuard(bad, snap({ now: hours(100) })));
    expect(plan.warnings).toEqual([
      `rainbow.dev/drain-started="yesterday" on web-${SERVING} is not an RFC 3339 time; max-drain is not applied`,
    ]);

    const badMax = service({ color: NEXT, annotations: { 'rainbow.dev/max-drain': '2d' } });
    const plan2 = askOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [badMax], now: hours(47) })));
    expect(plan2.warnings).toEqual([
      'Service web: ignoring rainbow.dev/max-drain="2d" (invalid duration "2d": unknown unit "d"; Go durations have no days, use hours (48h); use h, m, s or ms (write it like 60s, 5m, 48h or 1h30m)); using 48h',
    ]);
  });
});

describe('delete guard rule 5: the pods to ask', () => {
  it('asks only running, reachable pods of the color, with their reporter address', () => {
    const pods = [
      pod({ name: POD_B, ip: '127.0.10.12', hash: HASH, annotations: { 'rainbow.dev/connections-port': '9500' } }),
      pod({ name: POD_A, ip: '127.0.10.11', hash: HASH }),
      pod({ name: 'pending', phase: 'Pending', ip: null, hash: HASH }),
      pod({ name: 'no-ip-yet', ip: null, hash: HASH }),
      pod({ name: 'terminating', ip: '127.0.10.14', deleting: true, hash: HASH }),
      pod({ name: 'succeeded', phase: 'Succeeded', ip: '127.0.10.15', hash: HASH }),
      pod({ name: 'other-color', color: NEXT, ip: '127.0.10.16' }),
      pod({ name: 'other-app', app: 'api', ip: '127.0.10.17' }),
    ];
    const plan = askOf(planDeleteGuard(loadRequest(DELETE), snap({ pods })));
    expect(plan.pods).toEqual([
      { name: POD_A, ip: '127.0.10.11', port: 9471, path: '/connections' },
      { name: POD_B, ip: '127.0.10.12', port: 9500, path: '/connections' },
    ]);
    expect(plan.subject).toEqual({
      action: 'delete',
      kind: 'Deployment',
      name: `web-${SERVING}`,
      namespace: NS,
      app: 'web',
      color: SERVING,
      deploymentName: `web-${SERVING}`,
    });
    expect(plan.warnings).toEqual([]);
  });

  it('takes the reporter port and path from the Deployment when the pod has none, and warns on bad ones', () => {
    const req = loadRequest(DELETE, (r) => {
      oldDeployment(r).metadata!.annotations!['rainbow.dev/connections-port'] = '8080';
      oldDeployment(r).metadata!.annotations!['rainbow.dev/connections-path'] = '/internal/connections';
    });
    const pods = [
      pod({ name: POD_A, ip: '127.0.10.11', hash: HASH }),
      pod({ name: POD_B, ip: '127.0.10.12', hash: HASH, annotations: { 'rainbow.dev/connections-port': 'http', 'rainbow.dev/connections-path': 'connections' } }),
    ];
    const plan = askOf(planDeleteGuard(req, snap({ pods })));
    expect(plan.pods).toEqual([
      { name: POD_A, ip: '127.0.10.11', port: 8080, path: '/internal/connections' },
      { name: POD_B, ip: '127.0.10.12', port: 9471, path: '/connections' },
    ]);
    expect(plan.warnings).toEqual([
      `pod ${POD_B}: rainbow.dev/connections-port="http" is not a port; asking 9471`,
      `pod ${POD_B}: rainbow.dev/connections-path="connections" is not a path; asking /connections`,
    ]);
  });

  it('allows when the color has no running pods', () => {
    const d = decidedOf(planDeleteGuard(loadRequest(DELETE), snap({ pods: [pod({ name: 'pending', phase: 'Pending', ip: null })] })));
    expect(d).toEqual({ allowed: true, reason: 'no-pods', status: { code: 200, message: `${SUBJECT} has no running pods` } });
  });
});

describe('delete guard: decision from the counts', () => {
  const plan = () => askOf(planDeleteGuard(loadRequest(DELETE), snap()));

  it('allows when every pod reports zero established connections', () => {
    expect(decideFromCounts(plan(), [zero(POD_A), zero(POD_B)], { onUnknown: 'deny' })).toEqual({
      allowed: true,
      reason: 'drained',
      status: { code: 200, message: `${SUBJECT} has no established connections on 2 pods` },
    });
  });

  it('denies with the count per pod and port', () => {
    const reports: PodReport[] = [
      { name: POD_B, ok: true, established: 3, ports: { '8081': 2, '8080': 1 } },
      { name: POD_A, ok: true, established: 2, ports: { '8080': 2, '8081': 0 } },
    ];
    expect(decideFromCounts(plan(), reports, { onUnknown: 'deny' })).toEqual({
      allowed: false,
      reason: 'connections',
      status: {
        status: 'Failure',
        code: 403,
        reason: 'Forbidden',
        message:
          `Refusing to delete ${SUBJECT}: 5 established connections still open — ${POD_A}: 2 (port 8080: 2), ${POD_B}: 3 (port 8080: 1, port 8081: 2). ` +
          `Wait for them to close and retry (watch: ${STATUS}), or force: ${FORCE}`,
      },
    });
  });

  it('denies by default when a pod cannot be asked, naming the pod and the error', () => {
    const d = decideFromCounts(plan(), [zero(POD_A), { name: POD_B, ok: false, reason: 'network', error: 'connect ECONNREFUSED 127.0.10.12:9471' }]);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('unknown-pod');
    expect(d.status?.message).toBe(
      `Refusing to delete ${SUBJECT}: could not ask pod ${POD_B} (127.0.10.12:9471/connections): connect ECONNREFUSED 127.0.10.12:9471. ` +
        `Its connections are unknown, so the request is refused (the webhook's --on-unknown=allow relaxes this). ` +
        `Check the pod's reporter sidecar (${STATUS}), or force: ${FORCE}`,
    );
  });

  it('counts a pod with no report at all as unknown', () => {
    const d = decideFromCounts(plan(), [zero(POD_A)], { onUnknown: 'deny' });
    expect(d.reason).toBe('unknown-pod');
    expect(d.status?.message).toContain(`could not ask pod ${POD_B} (127.0.10.12:9471/connections): no answer.`);
  });

  it('counts a nonsensical count as unknown', () => {
    const d = decideFromCounts(plan(), [zero(POD_A), { name: POD_B, ok: true, established: -1, ports: {} }], { onUnknown: 'deny' });
    expect(d.status?.message).toContain(`could not ask pod ${POD_B} (127.0.10.12:9471/connections): reported -1 established connections.`);
  });

  it('allows an unknown pod with --on-unknown=allow, with a warning naming it', () => {
    const d = decideFromCounts(plan(), [zero(POD_A), { name: POD_B, ok: false, reason: 'network', error: 'timeout after 2000 ms' }], { onUnknown: 'allow' });
    expect(d).toEqual({
      allowed: true,
      reason: 'unknown-pod',
      warnings: [
        `${SUBJECT}: could not ask pod ${POD_B} (127.0.10.12:9471/connections): timeout after 2000 ms; allowed because the webhook runs with --on-unknown=allow`,
      ],
    });
  });

  it('still denies for connections with --on-unknown=allow, and names the unknown pod too', () => {
    const reports: PodReport[] = [
      { name: POD_A, ok: true, established: 1, ports: { '8081': 1 } },
      { name: POD_B, ok: false, reason: 'network', error: 'HTTP 500' },
    ];
    const d = decideFromCounts(plan(), reports, { onUnknown: 'allow' });
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('connections');
    expect(d.status?.message).toBe(
      `Refusing to delete ${SUBJECT}: 1 established connection still open — ${POD_A}: 1 (port 8081: 1). ` +
        `Could not ask pod ${POD_B} (127.0.10.12:9471/connections): HTTP 500. Wait for them to close and retry (watch: ${STATUS}), or force: ${FORCE}`,
    );
  });

  it('carries the plan\'s warnings into the decision', () => {
    const p = askOf(planDeleteGuard(loadRequest(DELETE), snap({ services: [service({ color: NEXT, pending: SERVING })] })));
    const d = decideFromCounts(p, [zero(POD_A), zero(POD_B)], { onUnknown: 'deny' });
    expect(d.allowed).toBe(true);
    expect(d.warnings).toEqual([`Service web is waiting to switch to color ${SERVING} (rainbow.dev/pending-color); it will keep serving ${NEXT}`]);
  });

  it('brackets IPv6 pod addresses in messages', () => {
    const p = askOf(planDeleteGuard(loadRequest(DELETE), snap({ pods: [pod({ name: POD_A, ip: 'fd00::a', hash: HASH })] })));
    const d = decideFromCounts(p, [{ name: POD_A, ok: false, reason: 'network', error: 'timeout' }], { onUnknown: 'deny' });
    expect(d.status?.message).toContain(`pod ${POD_A} ([fd00::a]:9471/connections): timeout`);
  });
});

describe('delete guard: scale to zero and dry run', () => {
  it('plans the same for deployments/scale as for an update of spec.replicas, and the messages say "scale"', () => {
    const viaScale = askOf(planDeleteGuard(loadRequest('deployment-scale-zero.json'), snap({ deployment: servingDeployment() })));
    const viaUpdate = askOf(planDeleteGuard(loadRequest('deployment-update-replicas-zero.json'), snap()));
    expect(viaScale.pods).toEqual(viaUpdate.pods);
    expect(viaScale.subject).toEqual({ ...viaUpdate.subject });
    expect(viaScale.subject.action).toBe('scale-to-zero');
    const d = decideFromCounts(viaScale, [{ name: POD_A, ok: true, established: 1, ports: { '8081': 1 } }, zero(POD_B)], { onUnknown: 'deny' });
    expect(d.status?.message).toMatch(/^Refusing to scale Deployment shop\/web-3c3fdc \(app web, color 3c3fdc\) to 0: 1 established connection still open/);
  });

  it('allows deployments/scale of a Deployment that is not found (nothing to protect)', () => {
    const d = decidedOf(planDeleteGuard(loadRequest('deployment-scale-zero.json'), snap({ deployment: null })));
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('not-found');
  });

  it('gives a dry-run DELETE exactly the same answer', () => {
    const s = snap();
    const dry = loadRequest('deployment-delete-dry-run.json');
    expect(dry.dryRun).toBe(true);
    expect(planDeleteGuard(dry, s)).toEqual(planDeleteGuard(loadRequest(DELETE), s));
    const denyServing = snap({ services: [service({ color: SERVING })] });
    expect(decidedOf(planDeleteGuard(dry, denyServing))).toEqual(decidedOf(planDeleteGuard(loadRequest(DELETE), denyServing)));
    const reports: PodReport[] = [{ name: POD_A, ok: true, established: 4, ports: { '8081': 4 } }, zero(POD_B)];
    const dryDecision = decideFromCounts(askOf(planDeleteGuard(dry, s)), reports, { onUnknown: 'deny' });
    expect(dryDecision.allowed).toBe(false);
    expect(dryDecision).toEqual(decideFromCounts(askOf(planDeleteGuard(loadRequest(DELETE), s)), reports, { onUnknown: 'deny' }));
  });
});
