// scripts/bench/scale/summary.ts and the pure parts of the scale benchmark's objects and reviews.
import { checkForeignGoal, checkGoals, foreignOverheadPct, formatRatios, formatTable, growth, type RunFigures } from '../../../scripts/bench/scale/summary.js';
import { podIp, podSuffix, reporterPort, templateHash, namespaceOfApp, appName, colorReplicaSetOf, colorPodOf, appColorSpecs, runningStatus } from '../../../scripts/bench/scale/objects.js';
import { appObjects, drawKinds, REVIEW_MIX, reviewFor, reviewPath } from '../../../scripts/bench/scale/reviews.js';
import { createLimiter, forEachPooled } from '../../../scripts/bench/scale/pool.js';
import { mulberry32 } from '../../../scripts/bench/seeded-random.js';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';

const run = (name: string, apps: number, foreignPods: number, figures: RunFigures['figures']): RunFigures => ({ name, apps, foreignPods, figures });

test('growth is larger / smaller per figure; foreign overhead is a percentage of the run without', () => {
  const small = run('100 apps', 100, 0, { webhookRssMiB: 80, reviewP99CachedMs: 1.2, drainRoundCpuMs: 200, promotionP99Ms: 0 });
  const large = run('1000 apps', 1000, 0, { webhookRssMiB: 160, reviewP99CachedMs: 1.5, drainRoundCpuMs: 2100, promotionP99Ms: 40 });
  expect(growth(small, large)).toMatchObject({ webhookRssMiB: 2, reviewP99CachedMs: 1.25, drainRoundCpuMs: 10.5, promotionP99Ms: undefined, controllerRssMiB: undefined });
  const withForeign = run('1000 apps + 10000 foreign', 1000, 10000, { webhookRssMiB: 162, reviewP99CachedMs: 1.8, drainRoundCpuMs: 2000 });
  const pct = foreignOverheadPct(large, withForeign);
  expect(pct).toMatchObject({ webhookRssMiB: 1.3, reviewP99CachedMs: 20, drainRoundCpuMs: -4.8 });
  expect(checkForeignGoal(pct)).toEqual({ met: false, over: ['reviewP99CachedMs +20%'] });
  expect(checkForeignGoal({ a: 4.9, b: -30, c: undefined })).toEqual({ met: true, over: [] });
  expect(formatRatios({ webhookRssMiB: 2, drainRoundCpuMs: 10.5 }, (v) => `×${v}`)).toBe('webhookRssMiB ×2, drainRoundCpuMs ×10.5');
});

test('goals are checked where a figure has one, in every run that has the figure', () => {
  const goals = checkGoals([run('1000 apps', 1000, 0, { webhookRssMiB: 210, reviewP99CachedMs: 2, promotionP99Ms: 80, drainRoundCpuMs: 5000 })]);
  expect(goals).toEqual([
    { figure: 'webhookRssMiB', run: '1000 apps', value: 210, goal: '< 200 MiB', met: false },
    { figure: 'reviewP99CachedMs', run: '1000 apps', value: 2, goal: '< 5 ms', met: true },
    { figure: 'promotionP99Ms', run: '1000 apps', value: 80, goal: '< 1000 ms', met: true },
  ]);
  const table = formatTable([run('a', 1, 0, { webhookRssMiB: 1 }), run('bb', 2, 0, {})]);
  expect(table[0]).toMatch(/^figure\s+a\s+bb$/);
  expect(table[1]).toMatch(/webhook RSS .*\(MiB\)\s+1\s+–$/);
});

test('pod addresses are unique, in 127/8 outside 127.0.x.x, never .0 or .255; names and ports are stable', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) seen.add(podIp(1, i));
  expect(seen.size).toBe(20_000);
  for (const ip of seen) expect(ip).toMatch(/^127\.1\.\d+\.(?!0$|255$)\d+$/);
  expect(podIp(2, 0)).toBe('127.2.0.1');
  expect(() => podIp(0, 1)).toThrow(RangeError);
  expect(new Set(Array.from({ length: 5000 }, (_, i) => podSuffix(i))).size).toBe(5000);
  expect(podSuffix(0)).toMatch(/^[a-z0-9]{5}$/);
  expect(templateHash('app0001', 'c00001')).toBe(templateHash('app0001', 'c00001'));
  expect(templateHash('app0001', 'c00001')).not.toBe(templateHash('app0001', 'c00002'));
  expect([0, 1, 31, 32].map((s) => reporterPort(s, 32))).toEqual([9471, 9472, 9502, 9471]);
  expect(namespaceOfApp({ prefix: 'scale-x', appsPerNamespace: 10 }, 123)).toBe('scale-x-012');
  expect(appName(7)).toBe('app0007');
});

test("a color's ReplicaSet selects its pods (pod-template-hash included), and its pods are orphans bound to a node with the template's spec", () => {
  const [draining] = appColorSpecs('ns', 'app0001', new Date('2026-12-01T12:00:00Z'));
  expect(draining!.annotations).toEqual({ 'rainbow.dev/drain-started': '2026-12-01T10:00:00Z' });
  const rs = colorReplicaSetOf(draining!);
  expect(rs.spec!.replicas).toBe(5);
  const pod = colorPodOf(rs, 2, 'rainbow-scale-node-1', { 'rainbow.dev/connections-port': '9473' });
  const sel = rs.spec!.selector.matchLabels!;
  for (const [k, v] of Object.entries(sel)) expect(pod.metadata!.labels![k]).toBe(v);
  expect(sel['pod-template-hash']).toBe(templateHash('app0001', 'c00001'));
  expect(pod.metadata!.ownerReferences).toBeUndefined();
  expect(pod.spec!.nodeName).toBe('rainbow-scale-node-1');
  expect(pod.spec!.initContainers![0]!.name).toBe('reporter');
  expect(pod.metadata!.annotations).toEqual({ 'rainbow.dev/connections-port': '9473' });
  const status = runningStatus(pod, '127.1.0.9', '10.250.1.10', new Date('2026-12-01T12:00:00.123Z'));
  expect(status).toMatchObject({ phase: 'Running', podIP: '127.1.0.9', hostIP: '10.250.1.10', startTime: '2026-12-01T12:00:00Z' });
  expect(status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
  expect(status.containerStatuses!.map((c) => c.name)).toEqual(['app']);
  expect(status.initContainerStatuses!.map((c) => c.name)).toEqual(['reporter']);
});

const dep = (color: string, drainStarted?: string): V1Deployment => ({
  metadata: { name: `web-${color}`, namespace: 'ns', uid: `u-${color}`, labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color }, annotations: drainStarted ? { 'rainbow.dev/drain-started': drainStarted } : {} },
  spec: { replicas: 5, selector: { matchLabels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } }, template: {} },
  status: { replicas: 5 },
});
const pod = (color: string, i: number): V1Pod => ({ metadata: { name: `web-${color}-${i}`, namespace: 'ns', labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } } });
const svc: V1Service = { metadata: { name: 'web', namespace: 'ns', labels: { 'rainbow.dev/app': 'web' } }, spec: { selector: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': 'c3' } } };

test('appObjects sorts an app into serving, kept (latest drain-started) and draining; reviews carry what the API server would send', () => {
  const o = appObjects(svc, [dep('c1', '2026-12-01T10:00:00Z'), dep('c3'), dep('c2', '2026-12-01T11:00:00Z')], ['c1', 'c2', 'c3'].flatMap((c) => [0, 1].map((i) => pod(c, i))))!;
  expect([o.serving.deployment, o.kept.deployment, o.draining.deployment].map((d) => d.metadata!.name)).toEqual(['web-c3', 'web-c2', 'web-c1']);
  expect(o.draining.pods.map((p) => p.metadata!.name)).toEqual(['web-c1-0', 'web-c1-1']);
  expect(appObjects(svc, [dep('c3')], [])).toBeUndefined();
  const first = <T>(xs: readonly T[]) => xs[0]!;
  const req = (kind: Parameters<typeof reviewFor>[0]) => (JSON.parse(reviewFor(kind, 'uid-1', o, undefined, first)) as { request: Record<string, any> }).request;
  expect(req('service-update-to-kept-color')).toMatchObject({ operation: 'UPDATE', object: { spec: { selector: { 'rainbow.dev/color': 'c2' } } }, oldObject: { spec: { selector: { 'rainbow.dev/color': 'c3' } } } });
  expect(req('pod-delete-draining')).toMatchObject({ operation: 'DELETE', name: 'web-c1-0', object: null, oldObject: { metadata: { name: 'web-c1-0' } } });
  expect(req('pod-evict-serving')).toMatchObject({ operation: 'CREATE', subResource: 'eviction', name: 'web-c3-0', object: { kind: 'Eviction' }, oldObject: null });
  expect(req('scale-down-serving')).toMatchObject({ subResource: 'scale', object: { spec: { replicas: 4 }, status: { selector: 'rainbow.dev/app=web,rainbow.dev/color=c3' } }, oldObject: { spec: { replicas: 5 } } });
  expect(req('scale-down-draining')).toMatchObject({ operation: 'UPDATE', object: { spec: { replicas: 3 } }, oldObject: { spec: { replicas: 5 } } });
  expect(req('delete-draining')).toMatchObject({ operation: 'DELETE', name: 'web-c1', oldObject: { metadata: { uid: 'u-c1' } } });
  expect(reviewPath('service-update-to-new-color')).toBe('/mutate/services');
  expect(reviewPath('pod-delete-serving')).toBe('/validate/deployments');
  expect(() => reviewFor('pod-evict-foreign', 'u', o, undefined, first)).toThrow(/foreign pod/);
});

test('drawKinds follows the weights of the mix', () => {
  const kinds = drawKinds(REVIEW_MIX, 20_000, mulberry32(1));
  const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
  expect(REVIEW_MIX.reduce((s, k) => s + k.weight, 0)).toBe(100);
  for (const k of REVIEW_MIX) expect(Math.abs(share(k.kind) - k.weight / 100)).toBeLessThan(0.015);
});

test('the limiter never lets more than its limit run; forEachPooled runs every item and reports the first failure', async () => {
  const limiter = createLimiter(3);
  let running = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 20 }, () =>
      limiter.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
      }),
    ),
  );
  expect(most).toBe(3);
  expect(limiter.inFlight).toBe(0);
  const done: number[] = [];
  const progress: number[] = [];
  await forEachPooled([1, 2, 3, 4, 5], 2, async (x) => void done.push(x), (d) => progress.push(d));
  expect(done.sort()).toEqual([1, 2, 3, 4, 5]);
  expect(progress).toEqual([1, 2, 3, 4, 5]);
  await expect(forEachPooled([1, 2, 3], 1, async (x) => { if (x === 2) throw new Error('two'); })).rejects.toThrow('two');
});
