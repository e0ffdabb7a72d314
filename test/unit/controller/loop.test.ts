// The reconciler driven without a cluster: an in-memory ObjectSource, a fake API that applies
// merge patches back to the source (as the watch would), a fake clock and fake pod answers.
import type { CoreV1Event, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { PodReport, PodTarget } from '../../../webhook/src/net/ask-pods.js';
import type { ControllerApi } from '../../../webhook/src/controller/kube-io.js';
import { memorySource, type MemorySource } from './memory-source.js';
import { createControllerLoop, type ControllerLoop } from '../../../webhook/src/controller/loop.js';
import { createControllerMetrics, type ControllerMetrics } from '../../../webhook/src/controller/metrics.js';
import { NS, deployment, pod, service } from '../../support/builders.js';
import { forecastDrain, formatForecast, type DrainForecast } from '../../../webhook/src/domain/drain-forecast.js';
import { formatForecastAnnotation, publishForecast } from '../../../webhook/src/domain/forecast-annotation.js';

const T0 = Date.parse('2025-11-26T10:00:00Z');

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** One call of the fake API, as made. */
type Call =
  | { op: 'listPods'; namespace: string; selector: string }
  | { op: 'patchService'; name: string; patch: object }
  | { op: 'patchDeployment'; name: string; patch: object }
  | { op: 'patchPod'; name: string; patch: object }
  | { op: 'deleteDeployment'; name: string; uid: string | undefined };
type Op = Call['op'];

interface Harness {
  loop: ControllerLoop;
  source: MemorySource;
  metrics: ControllerMetrics;
  calls: Call[];
  events: CoreV1Event[];
  clock: { now: number };
  pods: V1Pod[];
  counts: Map<string, number | Error>;
  leader: { value: boolean };
  deleteError: { value?: unknown };
  conflicts: { value: number };
  /** Thrown by patchDeployment for a patch of spec.replicas (the guard refusing a scale-down). */
  scaleError: { value?: unknown };
  /** A new controller process on the same objects, API and clock (the old loop must be stopped): what it remembers is what the objects say. */
  newLoop(): ControllerLoop;
}

let rv = 100;
const bump = <T extends V1Service | V1Deployment>(o: T): T => ({ ...o, metadata: { ...o.metadata, resourceVersion: String(++rv) } });

function harness(objects: Array<V1Service | V1Deployment>, o: { debounceMs?: number; maxProbeGapMs?: number } = {}): Harness {
  const source = memorySource(objects.map(bump));
  const calls: Call[] = [];
  const events: CoreV1Event[] = [];
  const clock = { now: T0 };
  const pods: V1Pod[] = [];
  const counts = new Map<string, number | Error>();
  const leader = { value: true };
  const deleteError: { value?: unknown } = {};
  const conflicts = { value: 0 };
  const scaleError: { value?: unknown } = {};
  const find = <T extends V1Service | V1Deployment>(list: T[], name: string) => list.find((x) => x.metadata?.name === name);
  const api: ControllerApi = {
    async listPods(namespace, selector) {
      calls.push({ op: 'listPods', namespace, selector });
      return pods;
    },
    async patchService(namespace, name, patch) {
      calls.push({ op: 'patchService', name, patch: structuredClone(patch) });
      if (conflicts.value > 0 && conflicts.value--) throw Object.assign(new Error('the object has been modified'), { code: 409 });
      const svc = find(source.services(namespace), name)!;
      const wantRv = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wantRv && wantRv !== svc.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      source.put(bump(mergePatch(svc, patch) as V1Service));
    },
    async patchDeployment(namespace, name, patch) {
      calls.push({ op: 'patchDeployment', name, patch: structuredClone(patch) });
      if (scaleError.value && 'spec' in patch) throw scaleError.value;
      const d = find(source.deployments(namespace), name);
      if (!d) throw Object.assign(new Error('not found'), { code: 404 });
      const wantRv = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wantRv && wantRv !== d.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      const next = bump(mergePatch(d, patch) as V1Deployment);
      // As the API server: a Deployment being deleted goes once its last finalizer does.
      if (next.metadata?.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) source.remove(d);
      else source.put(next);
    },
    async deleteDeployment(namespace, name, uid) {
      calls.push({ op: 'deleteDeployment', name, uid });
      if (deleteError.value) throw deleteError.value;
      const d = find(source.deployments(namespace), name)!;
      if ((d.metadata?.finalizers ?? []).length > 0) source.put(bump({ ...d, metadata: { ...d.metadata, deletionTimestamp: new Date(clock.now) } }));
      else source.remove(d);
    },
    async createEvent(_namespace, ev) {
      // As the API server: an Event's name is unique (the controller's once-only Events rely on it).
      if (events.some((e) => e.metadata.name === ev.metadata.name)) throw Object.assign(new Error('already exists'), { code: 409 });
      events.push(ev);
    },
    async patchPod(_namespace, name, patch) {
      calls.push({ op: 'patchPod', name, patch: structuredClone(patch) });
      const i = pods.findIndex((p) => p.metadata?.name === name);
      if (i < 0) throw Object.assign(new Error('not found'), { code: 404 });
      pods[i] = mergePatch(pods[i], patch) as V1Pod;
    },
  };
  const askPods = async (targets: readonly PodTarget[]): Promise<PodReport[]> =>
    targets.map((t) => {
      const c = counts.get(t.name) ?? 0;
      return c instanceof Error ? { name: t.name, ok: false, reason: 'refused', error: `pod ${t.name}: ${c.message}` } : { name: t.name, ok: true, established: c, ports: {} };
    });
  const metrics = createControllerMetrics();
  const newLoop = () =>
    createControllerLoop({
      source,
      api,
      askPods,
      now: () => new Date(clock.now),
      intervalMs: 0, // drive drain checks by hand
      debounceMs: o.debounceMs ?? 5,
      ...(o.maxProbeGapMs ? { maxProbeGapMs: o.maxProbeGapMs } : {}),
      isLeader: () => leader.value,
      identity: 'test-controller',
      metrics,
    });
  return { loop: newLoop(), source, metrics, calls, events, clock, pods, counts, leader, deleteError, conflicts, scaleError, newLoop };
}

const callsOf = <O extends Op>(h: Harness, op: O, name?: string) =>
  h.calls.filter((c): c is Extract<Call, { op: O }> => c.op === op && (name === undefined || ('name' in c && c.name === name)));
const annotationsOf = (patch: object): Record<string, unknown> => (patch as { metadata?: { annotations?: Record<string, unknown> } }).metadata?.annotations ?? {};
const FORECAST = 'rainbow.dev/drain-forecast';
const isForecastWrite = (c: Call) => 'patch' in c && FORECAST in annotationsOf(c.patch);
/** The controller's own annotations, what a restarted controller decides from (see recordsOf). */
const RECORD_KEYS = ['rainbow.dev/served-at', 'rainbow.dev/drain-settings', 'rainbow.dev/zero-since', 'rainbow.dev/no-service-since'];
const isRecordWrite = (c: Call) =>
  c.op === 'patchDeployment' && !('spec' in c.patch) && Object.keys(annotationsOf(c.patch)).length > 0 && Object.keys(annotationsOf(c.patch)).every((k) => RECORD_KEYS.includes(k));
/** Every call but the pod lists, the drain forecast's publications (see forecastWrites) and the records (see recordsOf). */
const writes = (h: Harness) => h.calls.filter((c) => c.op !== 'listPods' && !isForecastWrite(c) && !isRecordWrite(c));
/** The record annotations written to a Deployment, patch by patch (a stamp's included). */
const recordsOf = (h: Harness, name: string) =>
  callsOf(h, 'patchDeployment', name)
    .map((c) => Object.fromEntries(Object.entries(annotationsOf(c.patch)).filter(([k]) => RECORD_KEYS.includes(k))))
    .filter((a) => Object.keys(a).length > 0);
/** The values written to a Deployment's rainbow.dev/drain-forecast, in order (null: removed). */
const forecastWrites = (h: Harness, name: string) =>
  h.calls.filter((c): c is Extract<Call, { op: 'patchDeployment' }> => c.op === 'patchDeployment' && c.name === name && isForecastWrite(c)).map((c) => annotationsOf(c.patch)[FORECAST]);
const deleteOf = (name: string): Call => ({ op: 'deleteDeployment', name, uid: `uid-${name}` });
/** The finalizer the controller puts on right before its delete, and takes off once the Deleted Event is recorded. */
const finalizerOn = (name: string, reason: string): Call => ({ op: 'patchDeployment', name, patch: { metadata: { resourceVersion: expect.any(String), finalizers: [`rainbow.dev/deleted-${reason}`] } } });
const finalizerOff = (name: string): Call => ({ op: 'patchDeployment', name, patch: { metadata: { finalizers: [] } } });
/** The promotion patch of Service web to `color`, with the resourceVersion read. */
const promoteOf = (color: string): Call => ({
  op: 'patchService',
  name: 'web',
  patch: { metadata: { resourceVersion: expect.any(String), annotations: { 'rainbow.dev/pending-color': null } }, spec: { selector: { 'rainbow.dev/color': color } } },
});
const reasons = (h: Harness) => h.events.map((e) => `${e.reason}:${e.involvedObject.kind}/${e.involvedObject.name}`);
const metric = async (h: Harness, name: string) => (await h.metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#')).join('\n');
const dep = (color: string, day: number, o: object = {}) => deployment({ color, created: `2025-11-2${day}T09:00:00Z`, ...o });
const later = (h: Harness, seconds: number) => (h.clock.now += seconds * 1000);
/** What the controller records on a color under the default settings, so that a test about something else sees no record write. */
const SETTINGS = '{"keepColors":1,"drainGraceSeconds":60,"maxDrainSeconds":172800,"shrink":true}';
const recorded = (servedAt?: string) => ({ 'rainbow.dev/drain-settings': SETTINGS, ...(servedAt ? { 'rainbow.dev/served-at': servedAt } : {}) });

describe('controller loop', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.loop.stop();
    h = undefined;
  });

  it('promotes as soon as the pending color becomes Available, without waiting for the debounce', async () => {
    h = harness([service({ color: 'bbbbbb', pending: 'cccccc' }), dep('bbbbbb', 2), dep('cccccc', 3, { available: false })], { debounceMs: 60_000 });
    await h.loop.start();
    expect(callsOf(h, 'patchService')).toEqual([]);

    const startedAt = Date.now();
    h.source.put(bump(dep('cccccc', 3)));
    await new Promise((r) => setTimeout(r, 20));
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(callsOf(h, 'patchService')).toEqual([promoteOf('cccccc')]);
    const svc = h.source.services(NS)[0]!;
    expect(svc.spec?.selector?.['rainbow.dev/color']).toBe('cccccc');
    expect(svc.metadata?.annotations?.['rainbow.dev/pending-color']).toBeUndefined();
    expect(reasons(h)).toEqual(['Promoted:Deployment/web-cccccc', 'Promoted:Service/web']);
    expect(h.events[0]).toMatchObject({
      type: 'Normal',
      message: 'Service web now routes to color cccccc (was bbbbbb): Deployment web-cccccc is Available',
      reportingComponent: 'rainbow-controller',
      reportingInstance: 'test-controller',
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-cccccc', namespace: NS, uid: 'uid-web-cccccc' },
    });
    expect(await metric(h, 'rainbow_promotions_total')).toBe('rainbow_promotions_total 1');
  });

  it('stamps the color that stopped serving, then deletes it once it read 0 for drain-grace', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '60s' };
    h = harness([service({ color: 'bbbbbb', pending: 'cccccc', annotations }), dep('bbbbbb', 2), dep('cccccc', 3)]);
    h.pods.push(pod({ name: 'web-bbbbbb-1', color: 'bbbbbb', ip: '127.0.10.1' }), pod({ name: 'web-cccccc-1', color: 'cccccc', ip: '127.0.10.2' }));
    h.counts.set('web-bbbbbb-1', 2);
    await h.loop.start(); // promotes (cccccc is Available already)
    await h.loop.idle(); // the Service update arrives: bbbbbb is stamped
    // bbbbbb served at the start: the first reconcile recorded that, and the app's settings.
    const settings = '{"keepColors":0,"drainGraceSeconds":60,"maxDrainSeconds":172800,"shrink":true}';
    expect(callsOf(h, 'patchDeployment', 'web-bbbbbb').slice(0, 2)).toEqual([
      { op: 'patchDeployment', name: 'web-bbbbbb', patch: { metadata: { annotations: { 'rainbow.dev/served-at': '2025-11-26T10:00:00Z', 'rainbow.dev/drain-settings': settings } } } },
      { op: 'patchDeployment', name: 'web-bbbbbb', patch: { metadata: { annotations: { 'rainbow.dev/drain-started': '2025-11-26T10:00:00Z' } } } },
    ]);
    expect(reasons(h)).toContain('DrainStarted:Deployment/web-bbbbbb');

    await h.loop.drainCheckNow();
    const list: Call = { op: 'listPods', namespace: NS, selector: 'rainbow.dev/app=web' };
    expect(callsOf(h, 'listPods')).toEqual([list, list]); // the first round's, then this one's
    expect(h.loop.observations(NS, 'web').get('bbbbbb')).toMatchObject({ lastCount: 2 });
    expect(await metric(h, 'rainbow_color_connections')).toContain('rainbow_color_connections{namespace="shop",app="web",color="bbbbbb"} 2');

    h.counts.set('web-bbbbbb-1', 0);
    later(h, 10);
    await h.loop.drainCheckNow();
    expect(h.loop.observations(NS, 'web').get('bbbbbb')?.zeroSince).toEqual(new Date(T0 + 10_000));
    later(h, 59);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([]);
    expect(h.loop.lastColors(NS, 'web')?.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['cccccc:serving', 'bbbbbb:drained']);
    later(h, 1);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([{ op: 'deleteDeployment', name: 'web-bbbbbb', uid: 'uid-web-bbbbbb' }]);
    expect(reasons(h).slice(-2)).toEqual(['Drained:Deployment/web-bbbbbb', 'Deleted:Deployment/web-bbbbbb']);
    expect(await metric(h, 'rainbow_deletions_total')).toBe('rainbow_deletions_total{reason="drained"} 1');
    expect(h.calls.filter((c) => 'patch' in c && 'rainbow.dev/force-delete' in annotationsOf(c.patch))).toEqual([]);
  });

  it('never deletes a color whose pods cannot be asked', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '0s' };
    h = harness([service({ color: 'cccccc', annotations }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }), dep('cccccc', 3)]);
    h.pods.push(pod({ name: 'web-bbbbbb-1', color: 'bbbbbb', ip: '127.0.10.1' }), pod({ name: 'web-bbbbbb-2', color: 'bbbbbb', ip: '127.0.10.3' }));
    h.counts.set('web-bbbbbb-2', new Error('connection refused'));
    await h.loop.start();
    later(h, 3600);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([]);
    expect(h.loop.observations(NS, 'web').get('bbbbbb')).toMatchObject({ lastCount: 0, unknown: 'pod web-bbbbbb-2: connection refused' });
    expect(await metric(h, 'rainbow_color_connections')).not.toContain('color="bbbbbb"');
    expect(await metric(h, 'rainbow_colors')).toContain('rainbow_colors{namespace="shop",app="web",state="draining"} 1');
  });

  it('past max-drain: sets force-delete, says so in an Event, then deletes', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/max-drain': '1h' };
    h = harness([service({ color: 'cccccc', annotations }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }), dep('cccccc', 3)]);
    h.pods.push(pod({ name: 'web-bbbbbb-1', color: 'bbbbbb', ip: '127.0.10.1' }));
    h.counts.set('web-bbbbbb-1', 4);
    await h.loop.start();
    expect(writes(h)).toEqual([
      {
        op: 'patchDeployment',
        name: 'web-bbbbbb',
        patch: { metadata: { resourceVersion: expect.any(String), finalizers: ['rainbow.dev/deleted-max-drain'], annotations: { 'rainbow.dev/force-delete': 'true' } } },
      },
      { op: 'deleteDeployment', name: 'web-bbbbbb', uid: 'uid-web-bbbbbb' },
      finalizerOff('web-bbbbbb'),
    ]);
    expect(reasons(h)).toEqual(['DrainDeadlineExceeded:Deployment/web-bbbbbb', 'Deleted:Deployment/web-bbbbbb']);
    expect(h.events[0]).toMatchObject({ type: 'Warning', message: expect.stringContaining('past max-drain 1h, with 4 established connections') });
    expect(await metric(h, 'rainbow_deletions_total')).toBe('rainbow_deletions_total{reason="max-drain"} 1');
  });

  it('a delete refused by the guard is reported, and retried only at a later drain check after drain-grace again', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '0s' };
    h = harness([service({ color: 'cccccc', annotations }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }), dep('cccccc', 3)]);
    h.deleteError.value = Object.assign(new Error('HTTP-Code: 403'), {
      code: 403,
      body: JSON.stringify({ kind: 'Status', message: 'admission webhook "deployments.rainbow.dev" denied the request: Refusing to delete … 3 established connections' }),
    });
    await h.loop.start();
    expect(callsOf(h, 'deleteDeployment')).toEqual([deleteOf('web-bbbbbb')]);
    expect(reasons(h)).toEqual(['Drained:Deployment/web-bbbbbb', 'DeleteRefused:Deployment/web-bbbbbb']);
    expect(h.events[1]!.message).toContain('denied the request');
    expect(await metric(h, 'rainbow_reconcile_errors_total')).toBe('rainbow_reconcile_errors_total 1');
    expect(h.loop.observations(NS, 'web').get('bbbbbb')?.zeroSince).toBeUndefined();

    await h.loop.reconcileNow(NS, 'web'); // an informer event: no retry yet
    expect(callsOf(h, 'deleteDeployment')).toEqual([deleteOf('web-bbbbbb')]);

    h.deleteError.value = undefined;
    later(h, 10);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([deleteOf('web-bbbbbb'), deleteOf('web-bbbbbb')]);
    expect(reasons(h).filter((r) => r.startsWith('Drained'))).toHaveLength(1); // announced once
  });

  it('writes nothing while not the leader, and catches up when it becomes one', async () => {
    h = harness([service({ color: 'bbbbbb', pending: 'cccccc' }), dep('bbbbbb', 2), dep('cccccc', 3)]);
    h.leader.value = false;
    await h.loop.start();
    await h.loop.drainCheckNow();
    expect(h.calls).toEqual([]);
    expect(h.events).toEqual([]);
    expect(await metric(h, 'rainbow_colors')).toContain('state="pending"} 1');
    h.leader.value = true;
    h.loop.leadershipChanged(true);
    await h.loop.idle();
    expect(callsOf(h, 'patchService')).toEqual([promoteOf('cccccc')]);
  });

  it('a Service changed meanwhile (409) is planned again', async () => {
    h = harness([
      service({ color: 'bbbbbb', pending: 'cccccc' }),
      dep('bbbbbb', 2, { annotations: recorded('2025-11-26T09:00:00Z') }),
      dep('cccccc', 3, { available: false, annotations: recorded() }),
    ]);
    await h.loop.start();
    h.conflicts.value = 1; // someone else writes the Service between our read and our patch
    h.source.put(bump(dep('cccccc', 3, { annotations: recorded() })));
    await new Promise((r) => setTimeout(r, 20));
    expect(callsOf(h, 'patchService')).toEqual([promoteOf('cccccc')]);
    expect(h.source.services(NS)[0]!.spec?.selector?.['rainbow.dev/color']).toBe('bbbbbb');
    await h.loop.idle(); // the fallback retry (1 s)
    expect(callsOf(h, 'patchService')).toEqual([promoteOf('cccccc'), promoteOf('cccccc')]);
    expect(h.source.services(NS)[0]!.spec?.selector?.['rainbow.dev/color']).toBe('cccccc');
    expect(await metric(h, 'rainbow_reconcile_errors_total')).toBe('rainbow_reconcile_errors_total 1');
  });

  it('a gap between probes (missed checks, standby) restarts the drain-grace count', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '60s' };
    h = harness([service({ color: 'cccccc', annotations }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }), dep('cccccc', 3)], {
      maxProbeGapMs: 30_000,
    });
    await h.loop.start();
    expect(h.loop.observations(NS, 'web').get('bbbbbb')?.zeroSince).toEqual(new Date(T0));
    later(h, 31);
    await h.loop.drainCheckNow();
    expect(h.loop.observations(NS, 'web').get('bbbbbb')?.zeroSince).toEqual(new Date(T0 + 31_000));
    later(h, 30);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([]);
  });

  describe('shrinking a draining color', () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '60s' };
    /** bbbbbb: 4 pods out of service for an hour (drain-grace long past), 3 connections on its first pod. */
    const setUp = (extra: Record<string, string> = {}) => {
      const x = harness([
        service({ color: 'cccccc', annotations: { ...annotations, ...extra } }),
        dep('bbbbbb', 2, { replicas: 4, annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }),
        dep('cccccc', 3),
      ]);
      for (let i = 1; i <= 4; i++) x.pods.push(pod({ name: `web-bbbbbb-${i}`, color: 'bbbbbb', ip: `127.0.10.${i}` }));
      x.counts.set('web-bbbbbb-1', 3);
      return x;
    };
    const costOf = (name: string, cost: string): Call => ({ op: 'patchPod', name, patch: { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': cost } } } });
    const shrinkOf = (shrunkFrom: number, replicas: number): Call => ({
      op: 'patchDeployment',
      name: 'web-bbbbbb',
      patch: { metadata: { resourceVersion: expect.any(String), annotations: { 'rainbow.dev/shrunk-from': String(shrunkFrom) } }, spec: { replicas } },
    });
    const bbbbbb = (x: Harness) => x.source.deployments(NS).find((d) => d.metadata?.name === 'web-bbbbbb')!;
    /** What the ReplicaSet controller does with the scale-down: it removes the lowest-cost pods. */
    const replicaSetScalesTo = (x: Harness, n: number) => {
      x.pods.sort((a, b) => Number(b.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) - Number(a.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0));
      x.pods.splice(n);
      const d = bbbbbb(x);
      x.source.put(bump({ ...d, status: { ...d.status, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n } }));
    };

    it('writes the deletion costs in one round, scales down to the connected pod in the next, and deletes the color once it drained', async () => {
      h = setUp();
      await h.loop.start(); // first drain round: the costs
      expect(writes(h)).toEqual([costOf('web-bbbbbb-1', '3')]);
      expect(h.loop.observations(NS, 'web').get('bbbbbb')?.pods?.map((p) => `${p.name}:${p.connections}`)).toEqual(['web-bbbbbb-1:3', 'web-bbbbbb-2:0', 'web-bbbbbb-3:0', 'web-bbbbbb-4:0']);

      await h.loop.reconcileNow(NS, 'web'); // an informer event between rounds: nothing new
      expect(writes(h)).toHaveLength(1);

      later(h, 10);
      await h.loop.drainCheckNow(); // the costs are current now: the scale-down
      expect(writes(h)).toHaveLength(2);
      expect(writes(h)[1]).toEqual(shrinkOf(4, 1));
      expect(bbbbbb(h).spec?.replicas).toBe(1);
      expect(reasons(h)).toEqual(['Shrunk:Deployment/web-bbbbbb']);
      expect(h.events[0]).toMatchObject({
        type: 'Normal',
        action: 'Scale',
        message: 'color bbbbbb: 1 of 4 pods still hold connections (3 established); scaled Deployment web-bbbbbb from 4 to 1 replicas',
      });
      expect(await metric(h, 'rainbow_shrinks_total')).toBe('rainbow_shrinks_total 1');
      expect(await metric(h, 'rainbow_shrink_removed_pods_total')).toBe('rainbow_shrink_removed_pods_total 3');
      await h.loop.idle(); // the Deployment's update is reconciled (no drain round: nothing written)
      expect(writes(h)).toHaveLength(2);
      expect(h.loop.lastColors(NS, 'web')?.colors.find((c) => c.color === 'bbbbbb')).toMatchObject({ state: 'draining', desiredReplicas: 1, shrunkFrom: 4 });

      replicaSetScalesTo(h, 1);
      expect(h.pods.map((p) => p.metadata?.name)).toEqual(['web-bbbbbb-1']);
      later(h, 10);
      await h.loop.drainCheckNow(); // nothing left to shrink
      expect(writes(h)).toHaveLength(2);

      h.counts.set('web-bbbbbb-1', 0); // the last client leaves
      later(h, 10);
      await h.loop.drainCheckNow();
      later(h, 60);
      await h.loop.drainCheckNow();
      expect(writes(h).slice(2)).toEqual([costOf('web-bbbbbb-1', '0'), finalizerOn('web-bbbbbb', 'drained'), deleteOf('web-bbbbbb'), finalizerOff('web-bbbbbb')]);
      expect(reasons(h)).toEqual(['Shrunk:Deployment/web-bbbbbb', 'Drained:Deployment/web-bbbbbb', 'Deleted:Deployment/web-bbbbbb']);
      // Published in the first round, removed once the color drained.
      expect(forecastWrites(h, 'web-bbbbbb')).toEqual(['{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}', null]);
    });

    it('a rollback to the shrunk color gives it its replicas back at once, without waiting for a drain round', async () => {
      h = setUp();
      await h.loop.start();
      later(h, 10);
      await h.loop.drainCheckNow();
      replicaSetScalesTo(h, 1);
      expect(bbbbbb(h).metadata?.annotations?.['rainbow.dev/shrunk-from']).toBe('4');
      const before = writes(h).length;

      const svc = h.source.services(NS)[0]!;
      h.source.put(bump({ ...svc, spec: { ...svc.spec, selector: { ...svc.spec!.selector, 'rainbow.dev/color': 'bbbbbb' } } }));
      await h.loop.idle();
      const restore = writes(h)
        .slice(before)
        .find((c) => c.op === 'patchDeployment' && c.name === 'web-bbbbbb' && 'rainbow.dev/shrunk-from' in annotationsOf(c.patch));
      expect(restore).toEqual({
        op: 'patchDeployment',
        name: 'web-bbbbbb',
        patch: { metadata: { resourceVersion: expect.any(String), annotations: { 'rainbow.dev/shrunk-from': null } }, spec: { replicas: 4 } },
      });
      expect(bbbbbb(h).spec?.replicas).toBe(4);
      expect(bbbbbb(h).metadata?.annotations?.['rainbow.dev/shrunk-from']).toBeUndefined();
      expect(reasons(h)).toEqual(['Shrunk:Deployment/web-bbbbbb', 'Restored:Deployment/web-bbbbbb', 'DrainStarted:Deployment/web-cccccc']);
      expect(h.events[1]!.message).toBe('color bbbbbb serves again: scaled Deployment web-bbbbbb back from 1 to 4 replicas (its rainbow.dev/shrunk-from)');
      expect(await metric(h, 'rainbow_restores_total')).toBe('rainbow_restores_total 1');
    });

    it('a scale-down the guard refuses is reported once and decided again at the next round', async () => {
      h = setUp();
      h.scaleError.value = Object.assign(new Error('HTTP-Code: 403'), {
        code: 403,
        body: JSON.stringify({ kind: 'Status', message: 'admission webhook "workloads.rainbow.dev" denied the request: Refusing to scale down … web-bbbbbb-2: 1' }),
      });
      await h.loop.start();
      later(h, 10);
      await h.loop.drainCheckNow();
      later(h, 10);
      await h.loop.drainCheckNow();
      expect(writes(h).filter((c) => c.op === 'patchDeployment')).toEqual([shrinkOf(4, 1), shrinkOf(4, 1)]);
      expect(bbbbbb(h).spec?.replicas).toBe(4);
      expect(reasons(h)).toEqual(['ShrinkRefused:Deployment/web-bbbbbb']);
      expect(h.events[0]).toMatchObject({ type: 'Warning', message: expect.stringContaining('scaling Deployment web-bbbbbb from 4 to 1 replicas failed: admission webhook') });
      expect(await metric(h, 'rainbow_shrinks_total')).toBe('rainbow_shrinks_total 0');

      h.scaleError.value = undefined;
      later(h, 10);
      await h.loop.drainCheckNow();
      expect(bbbbbb(h).spec?.replicas).toBe(1);
    });

    it('with rainbow.dev/shrink: "false" no pod is patched and the color keeps its replicas until it is deleted', async () => {
      h = setUp({ 'rainbow.dev/shrink': 'false' });
      await h.loop.start();
      for (let i = 0; i < 3; i++) {
        later(h, 10);
        await h.loop.drainCheckNow();
      }
      expect(writes(h)).toEqual([]);
      expect(bbbbbb(h).spec?.replicas).toBe(4);
      // Only the forecast is published, once: three rounds later its reason changed, but within 5 minutes.
      expect(forecastWrites(h, 'web-bbbbbb')).toEqual(['{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}']);
    });

    it('a standby writes nothing', async () => {
      h = setUp();
      h.leader.value = false;
      await h.loop.start();
      later(h, 10);
      await h.loop.drainCheckNow();
      expect(h.calls).toEqual([]);
    });
  });

  describe('drain forecast', () => {
    const MAX_DRAIN_MS = 48 * 3600_000;
    /** bbbbbb out of service since T0 with 500 connections on one pod, each round (2 minutes) losing 8% of them (shrink off). */
    const setUp = (o: { maxProbeGapMs?: number } = {}) => {
      const x = harness(
        [
          service({ color: 'cccccc', annotations: { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/shrink': 'false' } }),
          dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T10:00:00Z' } }),
          dep('cccccc', 3),
        ],
        o,
      );
      x.pods.push(pod({ name: 'web-bbbbbb-1', color: 'bbbbbb', ip: '127.0.10.1' }));
      x.counts.set('web-bbbbbb-1', 500);
      return x;
    };
    const countAt = (round: number) => Math.round(500 * Math.exp(-0.08 * round));
    /** The samples rounds 0…round have taken, and what the estimator makes of them then. */
    const expected = (round: number): DrainForecast =>
      forecastDrain(
        Array.from({ length: round + 1 }, (_, i) => ({ at: T0 + i * 120_000, count: countAt(i) })),
        T0 + round * 120_000,
        T0 + MAX_DRAIN_MS,
      );
    const published = (round: number) => formatForecastAnnotation(publishForecast(expected(round), new Date(T0 + round * 120_000))!);
    const nextRound = async (x: Harness, round: number) => {
      x.clock.now = T0 + round * 120_000;
      x.counts.set('web-bbbbbb-1', countAt(round));
      await x.loop.drainCheckNow();
    };
    const eta = async (x: Harness) => (await metric(x, 'rainbow_color_drain_eta_seconds')).split('\n').filter((l) => l.includes('color="bbbbbb"'));
    const bbbbbbAnnotation = (x: Harness) => x.source.deployments(NS).find((d) => d.metadata?.name === 'web-bbbbbb')!.metadata?.annotations?.[FORECAST];

    it('publishes the forecast of a draining color as a metric, one Event and its annotation; serving again removes it', async () => {
      h = setUp();
      await h.loop.start(); // round 0
      for (let round = 1; round <= 8; round++) await nextRound(h, round);

      // Unknown at first (rewritten once its reason changed and 5 minutes passed), an estimate from
      // round 5 (10 minutes, 6 samples), then rewritten only once the bounds moved, 5 minutes later.
      expect(expected(4).kind).toBe('unknown');
      const est5 = expected(5);
      if (est5.kind !== 'estimate') throw new Error(`round 5: ${JSON.stringify(est5)}`);
      expect(published(0)).toBe('{"unknown":"1 sample","computedAt":"2025-11-26T10:00:00Z"}');
      expect(published(3)).toBe('{"unknown":"4 samples","computedAt":"2025-11-26T10:06:00Z"}');
      expect(forecastWrites(h, 'web-bbbbbb')).toEqual([published(0), published(3), published(5), published(8)]);
      expect(bbbbbbAnnotation(h)).toBe(published(8));

      const est8 = expected(8);
      if (est8.kind !== 'estimate' || !est8.latest) throw new Error(`round 8: ${JSON.stringify(est8)}`);
      const now8 = T0 + 8 * 120_000;
      expect(await eta(h)).toEqual([
        `rainbow_color_drain_eta_seconds{namespace="shop",app="web",color="bbbbbb",bound="earliest"} ${(est8.earliest.getTime() - now8) / 1000}`,
        `rainbow_color_drain_eta_seconds{namespace="shop",app="web",color="bbbbbb",bound="latest"} ${(est8.latest.getTime() - now8) / 1000}`,
      ]);

      expect(reasons(h)).toEqual(['DrainForecast:Deployment/web-bbbbbb']);
      expect(h.events[0]).toMatchObject({ type: 'Normal', action: 'Drain', involvedObject: { kind: 'Deployment', name: 'web-bbbbbb', uid: 'uid-web-bbbbbb' } });
      expect(h.events[0]!.message).toBe(`drain forecast for web-bbbbbb: 0 connections ${formatForecast(est5, T0 + 5 * 120_000)} (335 left); max-drain deadline in 47h50m`);
      expect(h.events[0]!.message).toMatch(/^drain forecast for web-bbbbbb: 0 connections in \S+–\S+ \(335 left\); max-drain deadline in 47h50m$/);

      // A rollback: bbbbbb serves again and loses its forecast, annotation and metric alike.
      const svc = h.source.services(NS)[0]!;
      h.source.put(bump({ ...svc, spec: { ...svc.spec, selector: { ...svc.spec!.selector, 'rainbow.dev/color': 'bbbbbb' } } }));
      await h.loop.idle();
      expect(forecastWrites(h, 'web-bbbbbb').slice(4)).toEqual([null]);
      expect(bbbbbbAnnotation(h)).toBeUndefined();
      expect(await eta(h)).toEqual([]);

      // Out of service again, its drain starts over: the series did not survive serving.
      h.source.put(bump({ ...h.source.services(NS)[0]!, spec: { ...svc.spec, selector: { ...svc.spec!.selector, 'rainbow.dev/color': 'cccccc' } } }));
      await h.loop.idle(); // re-stamped
      await nextRound(h, 9);
      expect(forecastWrites(h, 'web-bbbbbb').slice(5)).toEqual(['{"unknown":"1 sample","computedAt":"2025-11-26T10:18:00Z"}']);
      expect(reasons(h).filter((r) => r.startsWith('DrainForecast'))).toEqual(['DrainForecast:Deployment/web-bbbbbb']);
    });

    it('skips rounds whose count is unknown, and keeps the series over a gap in probing', async () => {
      h = setUp({ maxProbeGapMs: 300_000 });
      await h.loop.start();
      for (let round = 1; round <= 3; round++) await nextRound(h, round);
      h.counts.set('web-bbbbbb-1', new Error('connection refused'));
      h.clock.now = T0 + 4 * 120_000;
      await h.loop.drainCheckNow(); // unknown: no sample
      h.clock.now = T0 + 30 * 60_000; // a gap longer than maxProbeGapMs, then one more complete round
      h.counts.set('web-bbbbbb-1', 400);
      await h.loop.drainCheckNow();
      expect(h.loop.observations(NS, 'web').get('bbbbbb')).toMatchObject({ lastCount: 400, observedAt: new Date(T0 + 30 * 60_000) });
      const seen = [0, 1, 2, 3].map((i) => ({ at: T0 + i * 120_000, count: countAt(i) }));
      const f = forecastDrain([...seen, { at: T0 + 30 * 60_000, count: 400 }], T0 + 30 * 60_000, T0 + MAX_DRAIN_MS);
      expect(f.kind).toBe('unknown');
      expect(forecastWrites(h, 'web-bbbbbb').at(-1)).toBe(formatForecastAnnotation(publishForecast(f, new Date(T0 + 30 * 60_000))!));
      expect(forecastWrites(h, 'web-bbbbbb').at(-1)).toBe('{"unknown":"5 samples","computedAt":"2025-11-26T10:30:00Z"}');
    });
  });

  describe('restarts: what a restarted controller decides from is on the objects', () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/drain-grace': '60s' };
    /**
     * A release B → C and C's drain, with a fresh controller process before each step when
     * `restartAt` names it: pending, promoted, stamped, zero seen, drained (its delete refused once,
     * so the restarted one must announce nothing twice), deleted.
     */
    async function release(restartAt: Set<string>) {
      const x = harness([service({ color: 'bbbbbb', pending: 'cccccc', annotations }), dep('bbbbbb', 2), dep('cccccc', 3, { available: false })]);
      x.pods.push(pod({ name: 'web-bbbbbb-1', color: 'bbbbbb', ip: '127.0.10.1' }), pod({ name: 'web-cccccc-1', color: 'cccccc', ip: '127.0.10.2' }));
      x.counts.set('web-bbbbbb-1', 1);
      let loop = x.loop;
      // Each step: the world moves (the clock, a count, a Deployment), then the step's drain round —
      // when restarting, the first round of a new process, which probes at once.
      const step = async (name: string, move: () => void, round = true) => {
        move();
        if (restartAt.has(name)) {
          await loop.stop();
          loop = x.newLoop();
          await loop.start(); // its first round is this step's
        } else if (round) await loop.drainCheckNow();
        await loop.idle();
      };
      await loop.start();
      await step('pending', () => x.source.put(bump({ ...dep('cccccc', 3), metadata: { ...x.source.deployments(NS).find((d) => d.metadata?.name === 'web-cccccc')!.metadata } })), false);
      await step('promoted', () => undefined);
      await step('stamped', () => {
        x.counts.set('web-bbbbbb-1', 0);
        later(x, 10);
      });
      await step('zero seen', () => later(x, 40));
      await step('drained', () => {
        later(x, 20);
        x.deleteError.value = Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ message: 'admission webhook "deployments.rainbow.dev" denied the request: a pod could not be asked' }) });
      });
      await step('refused', () => {
        x.deleteError.value = undefined;
        later(x, 10); // a new 0-streak: drain-grace again from here
      });
      await step('deleting', () => later(x, 60));
      const observed = {
        deletes: callsOf(x, 'deleteDeployment'),
        reasons: reasons(x),
        colors: loop.lastColors(NS, 'web')?.colors.map((c) => `${c.color}:${c.state}`),
        records: recordsOf(x, 'web-bbbbbb'),
        left: x.source.deployments(NS).map((d) => d.metadata?.name),
      };
      await loop.stop();
      return observed;
    }

    it('at every step, the same deletes, Events and final state as a controller that ran on', async () => {
      const straight = await release(new Set());
      expect(straight.deletes).toEqual([deleteOf('web-bbbbbb'), deleteOf('web-bbbbbb')]); // refused once, then through
      expect(straight.reasons).toEqual([
        'Promoted:Deployment/web-cccccc',
        'Promoted:Service/web',
        'DrainStarted:Deployment/web-bbbbbb',
        'Drained:Deployment/web-bbbbbb',
        'DeleteRefused:Deployment/web-bbbbbb',
        'Deleted:Deployment/web-bbbbbb',
      ]);
      expect(straight.left).toEqual(['web-cccccc']);
      // zero-since written once, when the 0-streak started, then removed when the refusal restarted it, written again.
      expect(straight.records.filter((r) => 'rainbow.dev/zero-since' in r)).toEqual([
        { 'rainbow.dev/zero-since': '2025-11-26T10:00:10Z' },
        { 'rainbow.dev/zero-since': null },
        { 'rainbow.dev/zero-since': '2025-11-26T10:01:20Z' },
      ]);
      for (const step of ['pending', 'promoted', 'stamped', 'zero seen', 'drained', 'refused', 'deleting']) {
        const restarted = await release(new Set([step]));
        expect({ step, ...restarted }).toEqual({ step, ...straight });
      }
      const everywhere = await release(new Set(['pending', 'promoted', 'stamped', 'zero seen', 'drained', 'refused', 'deleting']));
      expect(everywhere).toEqual(straight);
    });
  });

  it('uninstall: the Service goes, 30 s later the colors drain (none kept) and go once drained; each AppUninstalled Event once, across a restart', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '1', 'rainbow.dev/drain-grace': '5s' };
    h = harness([service({ color: 'cccccc', annotations }), dep('bbbbbb', 2, { annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } }), dep('cccccc', 3)]);
    h.pods.push(pod({ name: 'web-cccccc-1', color: 'cccccc', ip: '127.0.10.2' }));
    h.counts.set('web-cccccc-1', 1);
    await h.loop.start();
    await h.loop.idle();
    expect(h.loop.lastColors(NS, 'web')?.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['cccccc:serving', 'bbbbbb:kept']);
    h.source.remove(h.source.services(NS)[0]!);
    await h.loop.idle();
    const since = '2025-11-26T10:00:00Z';
    expect(h.source.deployments(NS).map((d) => d.metadata?.annotations?.['rainbow.dev/no-service-since'])).toEqual([since, since]);
    later(h, 29);
    await h.loop.drainCheckNow();
    expect(writes(h)).toEqual([]);
    later(h, 1);
    await h.loop.drainCheckNow();
    await h.loop.idle();
    // bbbbbb, no longer kept, has read 0 since the first round, 30 s ago: past drain-grace (5 s, kept on the Deployments).
    expect(reasons(h)).toEqual([
      'AppUninstalled:Deployment/web-cccccc',
      'DrainStarted:Deployment/web-cccccc',
      'AppUninstalled:Deployment/web-bbbbbb',
      'Drained:Deployment/web-bbbbbb',
      'Deleted:Deployment/web-bbbbbb',
    ]);
    expect(h.source.deployments(NS).map((d) => d.metadata?.annotations?.['rainbow.dev/drain-started'])).toEqual([since]);
    expect(callsOf(h, 'deleteDeployment')).toEqual([deleteOf('web-bbbbbb')]);
    // A restart: the uninstall is not announced again (the Events are named once per Deployment and uninstall).
    await h.loop.stop();
    h.loop = h.newLoop();
    await h.loop.start();
    await h.loop.idle();
    expect(reasons(h).filter((r) => r.startsWith('AppUninstalled'))).toHaveLength(2);
    h.counts.set('web-cccccc-1', 0);
    later(h, 1);
    await h.loop.drainCheckNow();
    later(h, 5);
    await h.loop.drainCheckNow();
    expect(callsOf(h, 'deleteDeployment')).toEqual([deleteOf('web-bbbbbb'), deleteOf('web-cccccc')]);
    expect(reasons(h).slice(-2)).toEqual(['Drained:Deployment/web-cccccc', 'Deleted:Deployment/web-cccccc']);
    await h.loop.idle();
    expect(h.loop.lastColors(NS, 'web')).toBeUndefined(); // nothing left: the app is forgotten
  });

  it('a controller that finds a color it deleted still there (killed between the delete and the Deleted Event) records the Event and lets the Deployment go', async () => {
    const gone = dep('bbbbbb', 2, { deleting: true, annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:00:00Z' } });
    gone.metadata!.finalizers = ['rainbow.dev/deleted-drained'];
    h = harness([service({ color: 'cccccc', annotations: { 'rainbow.dev/keep-colors': '0' } }), gone, dep('cccccc', 3, { annotations: recorded('2025-11-26T09:00:00Z') })]);
    await h.loop.start();
    await h.loop.idle();
    expect(reasons(h)).toEqual(['Deleted:Deployment/web-bbbbbb']);
    expect(h.events[0]!.message).toBe('Deployment web-bbbbbb (color bbbbbb) deleted: drained');
    expect(writes(h)).toEqual([finalizerOff('web-bbbbbb')]);
    expect(h.source.deployments(NS).map((d) => d.metadata?.name)).toEqual(['web-cccccc']);
    expect(callsOf(h, 'deleteDeployment')).toEqual([]); // no second delete
  });

  it('forgets an app whose objects are all gone', async () => {
    const svc = service({ color: 'bbbbbb' });
    const d = dep('bbbbbb', 2);
    h = harness([svc, d]);
    await h.loop.start();
    expect(await metric(h, 'rainbow_colors')).toContain('state="serving"} 1');
    h.source.remove(h.source.services(NS)[0]!);
    h.source.remove(h.source.deployments(NS)[0]!);
    await h.loop.idle();
    expect(h.loop.lastColors(NS, 'web')).toBeUndefined();
    expect(await metric(h, 'rainbow_colors')).toBe('');
  });
});
