// The actuator's patch bodies, built by pure functions, and how it handles the writes that fail.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  clearDrainForecastPatch,
  clearDrainStartedPatch,
  clearPendingPatch,
  createActuator,
  deletionCostPatch,
  drainForecastPatch,
  drainStartedPatch,
  forceDeletePatch,
  beforeDeletePatch,
  finalizersPatch,
  promotePatch,
  restoreReplicasPatch,
  shrinkPatch,
  type WriteAction,
} from '../../../webhook/src/controller/actuator.js';
import { newAppContext, type AppContext } from '../../../webhook/src/controller/app-context.js';
import { createEventRecorder } from '../../../webhook/src/controller/events.js';
import type { ControllerApi } from '../../../webhook/src/controller/kube-io.js';
import { createControllerMetrics, type ControllerMetrics } from '../../../webhook/src/controller/metrics.js';
import type { AppColors } from '../../../webhook/src/domain/color-states.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import type { AdmissionRequest } from '../../../webhook/src/admission/review.js';
import { classifyGuardRequest } from '../../../webhook/src/webhook/guard-request.js';
import { deployment } from '../../support/builders.js';

describe('patch builders', () => {
  it('promotePatch routes the Service to the color and drops pending-color, with the resourceVersion read', () => {
    expect(promotePatch({ to: 'cccccc', resourceVersion: '42' })).toEqual({
      metadata: { resourceVersion: '42', annotations: { 'rainbow.dev/pending-color': null } },
      spec: { selector: { 'rainbow.dev/color': 'cccccc' } },
    });
    expect(promotePatch({ to: 'cccccc' })).toEqual({
      metadata: { annotations: { 'rainbow.dev/pending-color': null } },
      spec: { selector: { 'rainbow.dev/color': 'cccccc' } },
    });
  });

  it('clearPendingPatch drops pending-color only', () => {
    expect(clearPendingPatch({ resourceVersion: '7' })).toEqual({ metadata: { resourceVersion: '7', annotations: { 'rainbow.dev/pending-color': null } } });
    expect(clearPendingPatch({})).toEqual({ metadata: { annotations: { 'rainbow.dev/pending-color': null } } });
  });

  it('drainStartedPatch stamps the time in RFC 3339 without fractions; clearDrainStartedPatch removes it', () => {
    expect(drainStartedPatch(new Date('2025-11-26T10:00:00.789Z'))).toEqual({ metadata: { annotations: { 'rainbow.dev/drain-started': '2025-11-26T10:00:00Z' } } });
    expect(clearDrainStartedPatch()).toEqual({ metadata: { annotations: { 'rainbow.dev/drain-started': null } } });
  });

  it('beforeDeletePatch adds the controller\'s finalizer to those read, with force-delete past max-drain, guarded by the resourceVersion read', () => {
    expect(beforeDeletePatch({ reason: 'drained', force: false, finalizers: ['other/keep'], resourceVersion: '7' })).toEqual({
      metadata: { resourceVersion: '7', finalizers: ['other/keep', 'rainbow.dev/deleted-drained'] },
    });
    expect(beforeDeletePatch({ reason: 'max-drain', force: true })).toEqual({
      metadata: { finalizers: ['rainbow.dev/deleted-max-drain'], annotations: { 'rainbow.dev/force-delete': 'true' } },
    });
    expect(finalizersPatch(['other/keep'])).toEqual({ metadata: { finalizers: ['other/keep'] } });
  });

  it('forceDeletePatch sets force-delete to "true"', () => {
    expect(forceDeletePatch()).toEqual({ metadata: { annotations: { 'rainbow.dev/force-delete': 'true' } } });
  });

  it('deletionCostPatch writes the cost as a string', () => {
    expect(deletionCostPatch(3)).toEqual({ metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '3' } } });
    expect(deletionCostPatch(0)).toEqual({ metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '0' } } });
  });

  it('shrinkPatch scales down and records shrunk-from in the same patch', () => {
    expect(shrinkPatch({ to: 1, shrunkFrom: 4, resourceVersion: '9' })).toEqual({
      metadata: { resourceVersion: '9', annotations: { 'rainbow.dev/shrunk-from': '4' } },
      spec: { replicas: 1 },
    });
    expect(shrinkPatch({ to: 0, shrunkFrom: 2 })).toEqual({ metadata: { annotations: { 'rainbow.dev/shrunk-from': '2' } }, spec: { replicas: 0 } });
  });

  it('drainForecastPatch writes the forecast annotation; clearDrainForecastPatch removes it', () => {
    const value = '{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}';
    expect(drainForecastPatch(value)).toEqual({ metadata: { annotations: { 'rainbow.dev/drain-forecast': value } } });
    expect(clearDrainForecastPatch()).toEqual({ metadata: { annotations: { 'rainbow.dev/drain-forecast': null } } });
  });

  it('the forecast patches touch metadata only, so the delete guard lets the update through', () => {
    const old = deployment({ color: 'bbbbbb', annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } });
    for (const patch of [drainForecastPatch('{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}'), clearDrainForecastPatch()]) {
      expect(Object.keys(patch)).toEqual(['metadata']);
      const annotations = { ...old.metadata!.annotations } as Record<string, string | null>;
      Object.assign(annotations, patch.metadata.annotations);
      const updated: V1Deployment = { ...old, metadata: { ...old.metadata, annotations: Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== null)) as Record<string, string> } };
      const req = {
        uid: 'u1',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: 'web-bbbbbb',
        namespace: 'shop',
        operation: 'UPDATE',
        userInfo: { username: 'system:serviceaccount:rainbow-system:rainbow-controller' },
        object: updated,
        oldObject: old,
      } as unknown as AdmissionRequest;
      expect(classifyGuardRequest(req)).toMatchObject({ guarded: false, reason: 'not-a-decrease' });
    }
  });

  it('restoreReplicasPatch gives the replicas back and drops shrunk-from; without a change of replicas it leaves spec alone', () => {
    expect(restoreReplicasPatch({ from: 1, to: 4, resourceVersion: '11' })).toEqual({
      metadata: { resourceVersion: '11', annotations: { 'rainbow.dev/shrunk-from': null } },
      spec: { replicas: 4 },
    });
    expect(restoreReplicasPatch({ from: 4, to: 4 })).toEqual({ metadata: { annotations: { 'rainbow.dev/shrunk-from': null } } });
  });
});

type Call =
  | { op: 'patchService' | 'patchDeployment' | 'patchPod'; name: string; patch: object }
  | { op: 'deleteDeployment'; name: string; uid: string | undefined };

interface Harness {
  act(a: WriteAction): Promise<void>;
  ctx: AppContext;
  calls: Call[];
  events: CoreV1Event[];
  clock: { now: number };
  leader: { value: boolean };
  /** Thrown by the next calls of that op (404 for patchPod of an unknown pod). */
  fail: Partial<Record<Call['op'], unknown>>;
  metrics: ControllerMetrics;
}

const T0 = Date.parse('2025-11-26T10:00:00Z');
const ref = { name: 'web-bbbbbb', namespace: 'shop', uid: 'uid-web-bbbbbb' };
const colors: AppColors = {
  app: 'web',
  namespace: 'shop',
  settings: { keepColors: 0, drainGraceSeconds: 60, maxDrainSeconds: 3600, shrink: true },
  colors: [],
  warnings: [],
  noService: false,
  unselectiveServices: [],
};
const denial = (message: string) =>
  Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', message: `admission webhook "x.rainbow.dev" denied the request: ${message}` }) });
const code = (c: number) => Object.assign(new Error(`HTTP-Code: ${c}`), { code: c });

function setUp(): Harness {
  const calls: Call[] = [];
  const events: CoreV1Event[] = [];
  const clock = { now: T0 };
  const leader = { value: true };
  const fail: Harness['fail'] = {};
  const check = (op: Call['op']) => {
    if (fail[op]) throw fail[op];
  };
  const api: ControllerApi = {
    listPods: async () => [],
    async patchService(_ns, name, patch) {
      calls.push({ op: 'patchService', name, patch });
      check('patchService');
    },
    async patchDeployment(_ns, name, patch) {
      calls.push({ op: 'patchDeployment', name, patch });
      check('patchDeployment');
    },
    async patchPod(_ns, name, patch) {
      calls.push({ op: 'patchPod', name, patch });
      if (name.startsWith('gone-')) throw code(404);
      check('patchPod');
    },
    async deleteDeployment(_ns, name, uid) {
      calls.push({ op: 'deleteDeployment', name, uid });
      check('deleteDeployment');
    },
    async createEvent(_ns, ev) {
      events.push(ev);
    },
  };
  const log = createLogger({ name: 'test', level: 'silent' });
  const now = () => new Date(clock.now);
  const metrics = createControllerMetrics();
  const actuator = createActuator({
    api,
    events: createEventRecorder({ api, identity: 'test', now, log }),
    log,
    metrics,
    now,
    isLeader: () => leader.value,
    isStopped: () => false,
    concurrency: 2,
    deleteRetryMs: 10_000,
  });
  const ctx = newAppContext('shop', 'web');
  return { act: (a) => actuator.act(ctx, a, colors), ctx, calls, events, clock, leader, fail, metrics };
}

const reasons = (h: Harness) => h.events.map((e) => `${e.type}:${e.reason}`);
const metric = async (h: Harness, name: string) => (await h.metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#')).join('\n');
const deleteAction = (o: Partial<Extract<WriteAction, { type: 'delete' }>> = {}): WriteAction => ({
  type: 'delete',
  color: 'bbbbbb',
  deployment: ref,
  reason: 'drained',
  force: false,
  message: 'color bbbbbb drained',
  ...o,
});
const shrinkAction: WriteAction = { type: 'shrink', color: 'bbbbbb', deployment: ref, resourceVersion: '5', from: 4, to: 1, shrunkFrom: 4, connections: 3, message: 'shrunk' };

describe('actuator', () => {
  it('promote writes promotePatch and reports it on the Deployment and the Service', async () => {
    const h = setUp();
    await h.act({ type: 'promote', service: 'web', resourceVersion: '3', from: 'bbbbbb', to: 'cccccc', deployment: { ...ref, name: 'web-cccccc' } });
    expect(h.calls).toEqual([{ op: 'patchService', name: 'web', patch: promotePatch({ to: 'cccccc', resourceVersion: '3' }) }]);
    expect(h.events.map((e) => `${e.reason}:${e.involvedObject.kind}/${e.involvedObject.name}`)).toEqual(['Promoted:Deployment/web-cccccc', 'Promoted:Service/web']);
  });

  it('stamp-drain-started says when a color is deleted, or that it is kept', async () => {
    const h = setUp();
    await h.act({ type: 'stamp-drain-started', color: 'bbbbbb', deployment: ref, at: new Date(T0) });
    expect(h.calls).toEqual([{ op: 'patchDeployment', name: 'web-bbbbbb', patch: drainStartedPatch(new Date(T0)) }]);
    expect(h.events[0]!.message).toBe('color bbbbbb serves no Service since 2025-11-26T10:00:00Z. It is deleted once it has read 0 connections for 1m, or after max-drain 1h at the latest.');
  });

  it('a failed write of a single-patch action is thrown to the reconcile', async () => {
    const h = setUp();
    h.fail.patchService = code(409);
    await expect(h.act({ type: 'clear-pending', service: 'web', color: 'cccccc' })).rejects.toMatchObject({ code: 409 });
  });

  describe('delete', () => {
    it('past max-drain: force-delete and the finalizer first, then the delete, announced once, then the finalizer goes', async () => {
      const h = setUp();
      await h.act(deleteAction({ force: true, reason: 'max-drain', message: 'past max-drain' }));
      expect(h.calls).toEqual([
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: beforeDeletePatch({ reason: 'max-drain', force: true }) },
        { op: 'deleteDeployment', name: 'web-bbbbbb', uid: 'uid-web-bbbbbb' },
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: finalizersPatch([]) },
      ]);
      expect(reasons(h)).toEqual(['Warning:DrainDeadlineExceeded', 'Normal:Deleted']);
      expect(h.events[1]!.message).toBe('Deployment web-bbbbbb (color bbbbbb) deleted: past max-drain');
    });

    it('does not delete once leadership is lost after the announcement', async () => {
      const h = setUp();
      const act = h.act(deleteAction());
      h.leader.value = false;
      await act;
      // The finalizer it put on is taken off again; no delete.
      expect(h.calls).toEqual([
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: beforeDeletePatch({ reason: 'drained', force: false }) },
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: finalizersPatch([]) },
      ]);
      expect(reasons(h)).toEqual(['Normal:Drained']);
    });

    it('a refusal holds the delete, restarts drain-grace, and is reported once per reason and window', async () => {
      const h = setUp();
      h.ctx.observations.set('bbbbbb', { lastCount: 0, zeroSince: new Date(T0 - 60_000), observedAt: new Date(T0) });
      h.fail.deleteDeployment = denial('3 established connections');
      await h.act(deleteAction());
      expect(h.ctx.holdDeletes.get('uid-web-bbbbbb')).toBe(T0 + 10_000);
      expect(h.ctx.observations.get('bbbbbb')).toEqual({ lastCount: 0, zeroSince: undefined, observedAt: new Date(T0) });
      expect(reasons(h)).toEqual(['Normal:Drained', 'Warning:DeleteRefused']);

      h.clock.now = T0 + 9_999; // held: not even tried
      await h.act(deleteAction());
      expect(h.calls.filter((c) => c.op === 'deleteDeployment')).toHaveLength(1);

      h.clock.now = T0 + 10_000; // tried again, refused for the same reason: no second Event
      await h.act(deleteAction());
      expect(h.calls.filter((c) => c.op === 'deleteDeployment')).toHaveLength(2);
      expect(reasons(h)).toEqual(['Normal:Drained', 'Warning:DeleteRefused']);

      h.clock.now = T0 + 600_000; // the window since the first refusal has passed
      await h.act(deleteAction());
      expect(reasons(h)).toEqual(['Normal:Drained', 'Warning:DeleteRefused', 'Warning:DeleteRefused']);
      expect(await metric(h, 'rainbow_reconcile_errors_total')).toBe('rainbow_reconcile_errors_total 3');
    });

    it('a failure other than the guard is a DeleteFailed; 404 and 409 are left to the watch', async () => {
      const h = setUp();
      h.fail.deleteDeployment = code(500);
      await h.act(deleteAction());
      expect(reasons(h)).toEqual(['Normal:Drained', 'Warning:DeleteFailed']);
      for (const c of [404, 409]) {
        const x = setUp();
        x.fail.deleteDeployment = code(c);
        await x.act(deleteAction());
        expect(reasons(x)).toEqual(['Normal:Drained']);
        expect(x.ctx.holdDeletes.size).toBe(0);
      }
    });

    it('a delete that succeeds forgets the color: its observation, hold and announcements', async () => {
      const h = setUp();
      h.ctx.observations.set('bbbbbb', { lastCount: 0, zeroSince: new Date(T0), observedAt: new Date(T0) });
      h.ctx.dedupe.announced.set('uid-web-bbbbbb:refused:x', T0 - 1);
      h.ctx.dedupe.announced.set('uid-other:Drained', T0 - 1);
      await h.act(deleteAction());
      expect(h.ctx.observations.has('bbbbbb')).toBe(false);
      expect([...h.ctx.dedupe.announced.keys()]).toEqual(['uid-other:Drained']);
      expect(await metric(h, 'rainbow_deletions_total')).toBe('rainbow_deletions_total{reason="drained"} 1');
    });
  });

  describe('set-deletion-cost', () => {
    it('patches every pod, skipping the ones gone and counting other failures once', async () => {
      const h = setUp();
      await h.act({
        type: 'set-deletion-cost',
        color: 'bbbbbb',
        deployment: ref,
        pods: [
          { name: 'p1', cost: 3 },
          { name: 'gone-p2', cost: 0 },
          { name: 'p3', cost: 1 },
        ],
      });
      expect(h.calls.map((c) => c.name).sort()).toEqual(['gone-p2', 'p1', 'p3']);
      expect(h.calls.find((c) => c.name === 'p1')).toEqual({ op: 'patchPod', name: 'p1', patch: deletionCostPatch(3) });
      expect(await metric(h, 'rainbow_reconcile_errors_total')).toBe('rainbow_reconcile_errors_total 0');

      h.fail.patchPod = code(500);
      await h.act({ type: 'set-deletion-cost', color: 'bbbbbb', deployment: ref, pods: [{ name: 'p1', cost: 3 }, { name: 'p3', cost: 1 }] });
      expect(await metric(h, 'rainbow_reconcile_errors_total')).toBe('rainbow_reconcile_errors_total 1');
    });

    it('writes nothing while not the leader', async () => {
      const h = setUp();
      h.leader.value = false;
      await h.act({ type: 'set-deletion-cost', color: 'bbbbbb', deployment: ref, pods: [{ name: 'p1', cost: 3 }] });
      expect(h.calls).toEqual([]);
    });
  });

  describe('shrink', () => {
    it('writes shrinkPatch and reports Shrunk', async () => {
      const h = setUp();
      await h.act(shrinkAction);
      expect(h.calls).toEqual([{ op: 'patchDeployment', name: 'web-bbbbbb', patch: shrinkPatch({ to: 1, shrunkFrom: 4, resourceVersion: '5' }) }]);
      expect(reasons(h)).toEqual(['Normal:Shrunk']);
      expect(await metric(h, 'rainbow_shrink_removed_pods_total')).toBe('rainbow_shrink_removed_pods_total 3');
    });

    it('a refusal by the guard is reported once per window, whatever its message; 404, 409 and other failures are not reported', async () => {
      const h = setUp();
      h.fail.patchDeployment = denial('web-bbbbbb-2: 1');
      await h.act(shrinkAction);
      h.fail.patchDeployment = denial('web-bbbbbb-2: 2');
      h.clock.now = T0 + 599_999;
      await h.act(shrinkAction);
      expect(reasons(h)).toEqual(['Warning:ShrinkRefused']);
      h.clock.now = T0 + 600_000;
      await h.act(shrinkAction);
      expect(reasons(h)).toEqual(['Warning:ShrinkRefused', 'Warning:ShrinkRefused']);
      for (const c of [404, 409, 500]) {
        const x = setUp();
        x.fail.patchDeployment = code(c);
        await expect(x.act(shrinkAction)).resolves.toBeUndefined();
        expect(x.events).toEqual([]);
      }
    });
  });

  describe('drain forecast', () => {
    const value = '{"earliest":"2025-11-26T12:00:00Z","latest":"2025-11-26T15:00:00Z","remaining":412,"computedAt":"2025-11-26T10:00:00Z"}';

    it('write-drain-forecast and clear-drain-forecast patch the Deployment; one deleted meanwhile is no error', async () => {
      const h = setUp();
      await h.act({ type: 'write-drain-forecast', color: 'bbbbbb', deployment: ref, value });
      await h.act({ type: 'clear-drain-forecast', color: 'bbbbbb', deployment: ref, value });
      expect(h.calls).toEqual([
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: drainForecastPatch(value) },
        { op: 'patchDeployment', name: 'web-bbbbbb', patch: clearDrainForecastPatch() },
      ]);
      h.fail.patchDeployment = code(404);
      await expect(h.act({ type: 'write-drain-forecast', color: 'bbbbbb', deployment: ref, value })).resolves.toBeUndefined();
      await expect(h.act({ type: 'clear-drain-forecast', color: 'bbbbbb', deployment: ref, value })).resolves.toBeUndefined();
      h.fail.patchDeployment = code(500);
      await expect(h.act({ type: 'write-drain-forecast', color: 'bbbbbb', deployment: ref, value })).rejects.toMatchObject({ code: 500 });
      expect(h.events).toEqual([]);
    });

    it('announce-drain-forecast reports DrainForecast once per color, and writes nothing', async () => {
      const h = setUp();
      const message = 'drain forecast for web-bbbbbb: 0 connections in 2h–5h (412 left); max-drain deadline in 48h';
      await h.act({ type: 'announce-drain-forecast', color: 'bbbbbb', deployment: ref, message });
      h.clock.now = T0 + 3_600_000;
      await h.act({ type: 'announce-drain-forecast', color: 'bbbbbb', deployment: ref, message: 'later, another range' });
      await h.act({ type: 'announce-drain-forecast', color: 'cccccc', deployment: { ...ref, name: 'web-cccccc', uid: 'uid-web-cccccc' }, message: 'cccccc' });
      expect(h.calls).toEqual([]);
      expect(h.events.map((e) => `${e.type}:${e.reason}:${e.involvedObject.name}:${e.message}`)).toEqual([`Normal:DrainForecast:web-bbbbbb:${message}`, 'Normal:DrainForecast:web-cccccc:cccccc']);
      expect(h.events[0]).toMatchObject({ action: 'Drain', involvedObject: { kind: 'Deployment', uid: 'uid-web-bbbbbb' } });
    });
  });

  it('restore-replicas reports Restored only when the replicas change', async () => {
    const h = setUp();
    await h.act({ type: 'restore-replicas', color: 'bbbbbb', deployment: ref, from: 4, to: 4, message: 'nothing to restore' });
    expect(h.events).toEqual([]);
    await h.act({ type: 'restore-replicas', color: 'bbbbbb', deployment: ref, from: 1, to: 4, message: 'restored' });
    expect(h.calls).toEqual([
      { op: 'patchDeployment', name: 'web-bbbbbb', patch: restoreReplicasPatch({ from: 4, to: 4 }) },
      { op: 'patchDeployment', name: 'web-bbbbbb', patch: restoreReplicasPatch({ from: 1, to: 4 }) },
    ]);
    expect(reasons(h)).toEqual(['Normal:Restored']);
    expect(await metric(h, 'rainbow_restores_total')).toBe('rainbow_restores_total 1');
  });
});
