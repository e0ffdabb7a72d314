import type { V1Service } from '@kubernetes/client-node';
import { decideCutover, cutoverFetch, type AppSnapshot } from '../../../webhook/src/webhook/cutover.js';
import { patchOperations, type Decision } from '../../../webhook/src/admission/responses.js';
import type { AdmissionRequest } from '../../../webhook/src/admission/review.js';
import { ANNOTATION_PENDING_COLOR, LABEL_COLOR } from '../../../webhook/src/domain/contract.js';
import { NEXT, NS, SERVING, applyDecision, deployment, loadRequest, service } from '../../support/builders.js';

const UPDATE = 'service-update-new-color.json';
const CREATE = 'service-create-first-deploy.json';

const svcOf = (req: AdmissionRequest) => req.object as unknown as V1Service;
const sortedOps = (d: Decision) => patchOperations(d).sort((a, b) => a.path.localeCompare(b.path));

function snapshot(over: Partial<AppSnapshot> = {}): AppSnapshot {
  return {
    deployments: [
      deployment({ color: SERVING, created: '2025-11-24T09:12:03Z' }),
      deployment({ color: NEXT, available: false, created: '2025-11-26T09:00:00Z' }),
    ],
    // The Service under review is in the list too, as a label-selected list returns it; it must be skipped.
    services: [service({ color: SERVING })],
    ...over,
  };
}

describe('cutover: requests it does not apply to', () => {
  it('leaves non-Service requests alone', () => {
    const req = loadRequest('deployment-delete.json');
    expect(decideCutover(req, snapshot())).toEqual({ allowed: true, reason: 'not-applicable' });
    expect(cutoverFetch(req)).toBeUndefined();
  });

  it('leaves Service status updates and DELETEs alone', () => {
    const status = loadRequest(UPDATE, (r) => (r.subResource = 'status'));
    expect(decideCutover(status, snapshot())).toEqual({ allowed: true, reason: 'not-applicable' });
    const del = loadRequest(UPDATE, (r) => {
      r.operation = 'DELETE';
      r.oldObject = r.object ?? null;
      r.object = null;
    });
    expect(decideCutover(del, snapshot())).toEqual({ allowed: true, reason: 'not-applicable' });
  });

  it('leaves a Service without the rainbow.dev/app label unchanged', () => {
    const req = loadRequest(UPDATE, (r) => delete svcOf(r).metadata!.labels!['rainbow.dev/app']);
    expect(decideCutover(req, snapshot())).toEqual({ allowed: true, reason: 'not-rainbow' });
    expect(cutoverFetch(req)).toBeUndefined();
  });

  it('leaves a labelled Service whose selector names no rainbow label unchanged', () => {
    const req = loadRequest(UPDATE, (r) => (svcOf(r).spec!.selector = { app: 'legacy-web' }));
    expect(decideCutover(req, snapshot())).toEqual({ allowed: true, reason: 'no-rainbow-selector' });
    const selectorless = loadRequest(UPDATE, (r) => delete svcOf(r).spec!.selector);
    expect(decideCutover(selectorless, snapshot())).toEqual({ allowed: true, reason: 'no-rainbow-selector' });
  });

  it('tells the caller what to list', () => {
    expect(cutoverFetch(loadRequest(UPDATE))).toEqual({ namespace: NS, app: 'web' });
  });
});

describe('cutover rule 1: requested color', () => {
  it('fills in the color from the previous selector on UPDATE', () => {
    const req = loadRequest(UPDATE, (r) => delete svcOf(r).spec!.selector![LABEL_COLOR]);
    const d = decideCutover(req, snapshot());
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('available');
    expect(sortedOps(d)).toEqual([{ op: 'add', path: '/spec/selector/rainbow.dev~1color', value: SERVING }]);
    expect(d.warnings).toEqual([
      `Service web: spec.selector has no ${LABEL_COLOR}; filled in ${SERVING}, the color app web serves (from its previous selector)`,
    ]);
  });

  it('fills in the color from the app\'s other Services on CREATE, preferring an Available one', () => {
    const req = loadRequest(CREATE, (r) => delete svcOf(r).spec!.selector![LABEL_COLOR]);
    const snap = snapshot({
      services: [service({ name: 'web-a', color: NEXT }), service({ name: 'web-tcp', color: SERVING })],
    });
    const d = decideCutover(req, snap);
    expect(d.reason).toBe('available');
    expect(applyDecision(svcOf(req), d).spec!.selector).toEqual({ 'rainbow.dev/app': 'web', 'rainbow.dev/color': SERVING });
    expect(d.warnings).toEqual([
      `Service web: spec.selector has no ${LABEL_COLOR}; filled in ${SERVING}, the color app web serves (from Service web-tcp)`,
    ]);
  });

  it('fills in the newest Available Deployment when no other Service serves', () => {
    const req = loadRequest(CREATE, (r) => delete svcOf(r).spec!.selector![LABEL_COLOR]);
    const snap = snapshot({
      services: [],
      deployments: [
        deployment({ color: SERVING, created: '2025-11-24T09:12:03Z' }),
        deployment({ color: 'a1a1a1', created: '2025-11-25T09:12:03Z' }),
        deployment({ color: NEXT, available: false, created: '2025-11-26T09:12:03Z' }),
      ],
    });
    const d = decideCutover(req, snap);
    expect(applyDecision(svcOf(req), d).spec!.selector![LABEL_COLOR]).toBe('a1a1a1');
    expect(d.warnings).toEqual([
      `Service web: spec.selector has no ${LABEL_COLOR}; filled in a1a1a1, the color app web serves (from the newest Available Deployment, web-a1a1a1)`,
    ]);
  });

  it('leaves the selector alone and warns when the app has no serving color at all', () => {
    const req = loadRequest(CREATE, (r) => delete svcOf(r).spec!.selector![LABEL_COLOR]);
    const d = decideCutover(req, { deployments: [deployment({ color: NEXT, available: false })], services: [] });
    expect(d.allowed).toBe(true);
    expect(d.patch).toBeUndefined();
    expect(d.reason).toBe('no-color');
    expect(d.warnings).toEqual([
      `Service web: spec.selector has no ${LABEL_COLOR} and app web has no serving color yet, so it selects the pods of every color. Set spec.selector.${LABEL_COLOR} to the color to serve`,
    ]);
  });
});

describe('cutover rule 2: requested color Available, or cutover immediate', () => {
  it('allows an Available color with no patch when nothing changes', () => {
    const snap = snapshot({ deployments: [deployment({ color: SERVING }), deployment({ color: NEXT })] });
    const d = decideCutover(loadRequest(UPDATE), snap);
    expect(d).toEqual({ allowed: true, reason: 'available' });
  });

  it('clears a pending annotation when the pending color is selected (the controller\'s promotion)', () => {
    const req = loadRequest(UPDATE, (r) => {
      svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = NEXT;
    });
    const d = decideCutover(req, snapshot({ deployments: [deployment({ color: SERVING }), deployment({ color: NEXT })] }));
    expect(d.reason).toBe('available');
    expect(sortedOps(d)).toEqual([{ op: 'remove', path: '/metadata/annotations/rainbow.dev~1pending-color' }]);
    expect(d.warnings).toBeUndefined();
    const after = applyDecision(svcOf(req), d);
    expect(after.metadata!.annotations).toEqual({ 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': NS });
    expect(after.spec!.selector![LABEL_COLOR]).toBe(NEXT);
  });

  it('drops a pending color, with a warning, when an update selects another Available color', () => {
    const req = loadRequest(UPDATE, (r) => {
      svcOf(r).spec!.selector![LABEL_COLOR] = SERVING;
      svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = NEXT;
    });
    const d = decideCutover(req, snapshot());
    expect(d.reason).toBe('available');
    expect(sortedOps(d)).toEqual([{ op: 'remove', path: '/metadata/annotations/rainbow.dev~1pending-color' }]);
    expect(d.warnings).toEqual([
      `Service web: dropped pending color ${NEXT}, because this update selects ${SERVING}. To switch to ${NEXT}, apply the Service with ${LABEL_COLOR}: ${NEXT}`,
    ]);
  });

  it('switches at once to a color that is not Available with cutover: immediate, and clears pending', () => {
    const req = loadRequest(UPDATE, (r) => {
      svcOf(r).metadata!.annotations!['rainbow.dev/cutover'] = 'immediate';
      svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = 'a1a1a1';
    });
    const d = decideCutover(req, snapshot());
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('immediate');
    const after = applyDecision(svcOf(req), d);
    expect(after.spec!.selector![LABEL_COLOR]).toBe(NEXT);
    expect(after.metadata!.annotations![ANNOTATION_PENDING_COLOR]).toBeUndefined();
    expect(d.warnings).toEqual([
      `Service web: switching to color ${NEXT} although it is not Available yet (0/2 ready) (rainbow.dev/cutover: immediate)`,
      `Service web: dropped pending color a1a1a1, because this update selects ${NEXT}. To switch to a1a1a1, apply the Service with ${LABEL_COLOR}: a1a1a1`,
    ]);
  });
});

describe('cutover rule 3: keep the Available color, set pending', () => {
  it('holds the old color and records the requested one as pending (helm upgrade)', () => {
    const req = loadRequest(UPDATE);
    const d = decideCutover(req, snapshot());
    expect(d.allowed).toBe(true);
    expect(d.reason).toBe('pending');
    expect(d.patchType).toBe('JSONPatch');
    expect(sortedOps(d)).toEqual([
      { op: 'add', path: '/metadata/annotations/rainbow.dev~1pending-color', value: NEXT },
      { op: 'replace', path: '/spec/selector/rainbow.dev~1color', value: SERVING },
    ]);
    expect(d.warnings).toEqual([
      `Service web: color ${NEXT} is not Available yet (0/2 ready); still serving ${SERVING}. rainbow-controller will switch when ${NEXT} is Available. Watch: kubectl rainbow status web -n ${NS}`,
    ]);
    // Applied, the patch changes exactly the selector's color and the pending annotation.
    const expected = structuredClone(svcOf(req));
    expected.spec!.selector![LABEL_COLOR] = SERVING;
    expected.metadata!.annotations![ANNOTATION_PENDING_COLOR] = NEXT;
    expect(applyDecision(svcOf(req), d)).toEqual(expected);
  });

  it('creates the annotations map when the Service has none', () => {
    const req = loadRequest(UPDATE, (r) => delete svcOf(r).metadata!.annotations);
    const d = decideCutover(req, snapshot());
    expect(sortedOps(d)).toEqual([
      { op: 'add', path: '/metadata/annotations', value: { 'rainbow.dev/pending-color': NEXT } },
      { op: 'replace', path: '/spec/selector/rainbow.dev~1color', value: SERVING },
    ]);
  });

  it('names a color that has no Deployment yet (Helm applies Services first)', () => {
    const d = decideCutover(loadRequest(UPDATE), snapshot({ deployments: [deployment({ color: SERVING })] }));
    expect(d.reason).toBe('pending');
    expect(d.warnings![0]).toBe(
      `Service web: color ${NEXT} has no Deployment yet; still serving ${SERVING}. rainbow-controller will switch when ${NEXT} is Available. Watch: kubectl rainbow status web -n ${NS}`,
    );
  });

  it('keeps a color that lost a pod while its other pods serve: a partial outage does not become a full one', () => {
    // One of SERVING's 2 pods crashed (its reporter sidecar was killed) as Helm asked for NEXT, which has no pod ready yet.
    const hurt = deployment({ color: SERVING });
    hurt.status!.availableReplicas = 1;
    hurt.status!.readyReplicas = 1;
    const d = decideCutover(loadRequest(UPDATE), snapshot({ deployments: [hurt, deployment({ color: NEXT, available: false })] }));
    expect(d.reason).toBe('pending');
    const after = applyDecision(svcOf(loadRequest(UPDATE)), d);
    expect(after.spec!.selector![LABEL_COLOR]).toBe(SERVING);
    expect(after.metadata!.annotations![ANNOTATION_PENDING_COLOR]).toBe(NEXT);
    expect(d.warnings![0]).toBe(
      `Service web: color ${NEXT} is not Available yet (0/2 ready); still serving ${SERVING} (1 of its pods serve; it is not Available yet (1/2 ready)). ` +
        `rainbow-controller will switch when ${NEXT} is Available. Watch: kubectl rainbow status web -n ${NS}`,
    );
    // With none of its pods left serving, there is nothing to keep.
    hurt.status!.availableReplicas = 0;
    expect(decideCutover(loadRequest(UPDATE), snapshot({ deployments: [hurt, deployment({ color: NEXT, available: false })] })).reason).toBe('nothing-serving');
  });

  it('treats a rollout not yet observed as not Available', () => {
    const snap = snapshot({
      deployments: [deployment({ color: SERVING }), deployment({ color: NEXT, generation: 3, observedGeneration: 2 })],
    });
    const d = decideCutover(loadRequest(UPDATE), snap);
    expect(d.reason).toBe('pending');
    expect(d.warnings![0]).toContain(`color ${NEXT} is not Available yet (generation 3 not yet rolled out)`);
  });

  it('holds a rollback to a color the controller shrank while it drained, until its replicas are back', () => {
    // NEXT drained down to 1 of its 4 pods; `helm rollback` asks for it again.
    const shrunk = deployment({ color: NEXT, replicas: 1, annotations: { 'rainbow.dev/shrunk-from': '4', 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } });
    const d = decideCutover(loadRequest(UPDATE), snapshot({ deployments: [deployment({ color: SERVING }), shrunk] }));
    expect(d.reason).toBe('pending');
    expect(d.warnings![0]).toBe(
      `Service web: color ${NEXT} is shrunk to 1 of its 4 replicas while it drained (Deployment web-${NEXT}, rainbow.dev/shrunk-from); rainbow-controller scales it back before it can serve; ` +
        `still serving ${SERVING}. rainbow-controller will switch when ${NEXT} is Available. Watch: kubectl rainbow status web -n ${NS}`,
    );
    // Scaled back (the annotation is removed in the same patch) and ready: the switch goes through.
    const back = deployment({ color: NEXT, replicas: 4 });
    expect(decideCutover(loadRequest(UPDATE), snapshot({ deployments: [deployment({ color: SERVING }), back] })).reason).toBe('available');
  });

  it('keeps an existing pending annotation up to date on a re-apply (idempotent)', () => {
    const req = loadRequest(UPDATE, (r) => (svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = 'a1a1a1'));
    const d = decideCutover(req, snapshot());
    expect(sortedOps(d)).toEqual([
      { op: 'replace', path: '/metadata/annotations/rainbow.dev~1pending-color', value: NEXT },
      { op: 'replace', path: '/spec/selector/rainbow.dev~1color', value: SERVING },
    ]);
    const again = loadRequest(UPDATE, (r) => {
      svcOf(r).spec!.selector![LABEL_COLOR] = NEXT;
      svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = NEXT;
    });
    const d2 = decideCutover(again, snapshot());
    expect(sortedOps(d2)).toEqual([{ op: 'replace', path: '/spec/selector/rainbow.dev~1color', value: SERVING }]);
  });

  it('on CREATE, holds the color the app\'s other Services serve (see cutover.ts)', () => {
    const req = loadRequest(CREATE, (r) => (svcOf(r).spec!.selector![LABEL_COLOR] = NEXT));
    const d = decideCutover(req, snapshot({ services: [service({ name: 'web-tcp', color: SERVING })] }));
    expect(d.reason).toBe('pending');
    const after = applyDecision(svcOf(req), d);
    expect(after.spec!.selector![LABEL_COLOR]).toBe(SERVING);
    expect(after.metadata!.annotations![ANNOTATION_PENDING_COLOR]).toBe(NEXT);
  });
});

describe('cutover rule 4: nothing Available is serving', () => {
  it('allows the first deploy as is (Service created before its Deployment)', () => {
    const d = decideCutover(loadRequest(CREATE), { deployments: [], services: [] });
    expect(d.allowed).toBe(true);
    expect(d.patch).toBeUndefined();
    expect(d.reason).toBe('nothing-serving');
    expect(d.warnings).toEqual([
      `Service web: color ${SERVING} has no Deployment yet and no other color of app web is Available; selecting it now. Watch: kubectl rainbow status web -n ${NS}`,
    ]);
  });

  it('on UPDATE whose old color is not Available either, selects the requested color and clears pending', () => {
    const req = loadRequest(UPDATE, (r) => (svcOf(r).metadata!.annotations![ANNOTATION_PENDING_COLOR] = NEXT));
    const snap = snapshot({
      deployments: [deployment({ color: SERVING, replicas: 0 }), deployment({ color: NEXT, available: false })],
    });
    const d = decideCutover(req, snap);
    expect(d.reason).toBe('nothing-serving');
    const after = applyDecision(svcOf(req), d);
    expect(after.spec!.selector![LABEL_COLOR]).toBe(NEXT);
    expect(after.metadata!.annotations![ANNOTATION_PENDING_COLOR]).toBeUndefined();
    expect(d.warnings).toEqual([
      `Service web: color ${NEXT} is not Available yet (0/2 ready) and no other color of app web is Available; selecting it now. Watch: kubectl rainbow status web -n ${NS}`,
    ]);
  });

  it('does not hold a color whose Deployment is being deleted', () => {
    const snap = snapshot({
      deployments: [deployment({ color: SERVING, deleting: true }), deployment({ color: NEXT, available: false })],
    });
    expect(decideCutover(loadRequest(UPDATE), snap).reason).toBe('nothing-serving');
  });

  it('ignores Deployments of other apps', () => {
    const snap = snapshot({
      deployments: [deployment({ color: SERVING, app: 'api' }), deployment({ color: NEXT, available: false })],
    });
    expect(decideCutover(loadRequest(UPDATE), snap).reason).toBe('nothing-serving');
  });
});

describe('cutover: annotations', () => {
  it('warns about an unknown cutover mode and uses ready', () => {
    const req = loadRequest(UPDATE, (r) => (svcOf(r).metadata!.annotations!['rainbow.dev/cutover'] = 'fast'));
    const d = decideCutover(req, snapshot());
    expect(d.reason).toBe('pending');
    expect(d.warnings![0]).toBe('Service web: ignoring rainbow.dev/cutover="fast" (expected ready or immediate); using ready');
  });

  it('gives the same answer on a dry run', () => {
    const dry = loadRequest(UPDATE, (r) => (r.dryRun = true));
    expect(decideCutover(dry, snapshot())).toEqual(decideCutover(loadRequest(UPDATE), snapshot()));
  });
});
