import type { PodReport, PodTarget } from '../../../webhook/src/net/ask-pods.js';
import { colorTargets, podObservations, podTarget, probeColors, summarize } from '../../../webhook/src/net/probe.js';
import { deployment, pod } from '../../support/builders.js';

describe('pod targets', () => {
  it("asks the pod's annotation, else the Deployment's, else the defaults", () => {
    const d = deployment({ color: 'aaaaaa', annotations: { 'rainbow.dev/connections-port': '9000', 'rainbow.dev/connections-path': '/conns' } });
    expect(podTarget(pod({ name: 'p', color: 'aaaaaa', ip: '127.0.10.1' }), undefined)).toEqual({ name: 'p', ip: '127.0.10.1', port: 9471, path: '/connections' });
    expect(podTarget(pod({ name: 'p', color: 'aaaaaa', ip: '127.0.10.1' }), d)).toEqual({ name: 'p', ip: '127.0.10.1', port: 9000, path: '/conns' });
    const own = pod({ name: 'p', color: 'aaaaaa', ip: '127.0.10.1', annotations: { 'rainbow.dev/connections-port': '9500' } });
    expect(podTarget(own, d)).toMatchObject({ port: 9500, path: '/conns' });
  });

  it('ignores unusable annotations', () => {
    const p = pod({ name: 'p', ip: '127.0.10.1', annotations: { 'rainbow.dev/connections-port': '99999', 'rainbow.dev/connections-path': 'no slash' } });
    expect(podTarget(p, undefined)).toMatchObject({ port: 9471, path: '/connections' });
  });

  it("takes only the color's running, reachable pods that match its Deployment's selector", () => {
    const d = deployment({ color: 'aaaaaa' });
    const pods = [
      pod({ name: 'b', color: 'aaaaaa', ip: '127.0.10.2' }),
      pod({ name: 'a', color: 'aaaaaa', ip: '127.0.10.1' }),
      pod({ name: 'other-color', color: 'bbbbbb', ip: '127.0.10.3' }),
      pod({ name: 'pending', color: 'aaaaaa', phase: 'Pending', ip: null }),
      pod({ name: 'terminating', color: 'aaaaaa', ip: '127.0.10.4', deleting: true }),
      pod({ name: 'other-app', app: 'shop', color: 'aaaaaa', ip: '127.0.10.5' }),
    ];
    expect(colorTargets(pods, 'aaaaaa', d).map((t) => t.name)).toEqual(['a', 'b']);
  });
});

describe('summarize', () => {
  const t = (name: string): PodTarget => ({ name, ip: '127.0.0.1', port: 9471, path: '/connections' });
  const ok = (name: string, established: number): PodReport => ({ name, ok: true, established, ports: {} });

  it('sums the counts', () => {
    expect(summarize([t('a'), t('b')], [ok('a', 2), ok('b', 3)])).toEqual({ count: 5, errors: [], perPod: { a: 2, b: 3 }, failed: {} });
  });

  it('no pods is 0 (nothing can hold a connection)', () => {
    expect(summarize([], [])).toEqual({ count: 0, errors: [], perPod: {}, failed: {} });
  });

  it('any pod without a count makes it unknown', () => {
    const r = summarize([t('a'), t('b'), t('c')], [ok('a', 0), { name: 'b', ok: false, reason: 'timeout', error: 'pod b: timeout after 2000 ms' }]);
    expect(r).toEqual({
      count: 0,
      unknown: 'pod b: timeout after 2000 ms (and 1 more pod)',
      errors: ['pod b: timeout after 2000 ms', 'pod c: no answer'],
      perPod: { a: 0 },
      failed: { b: 'pod b: timeout after 2000 ms', c: 'pod c: no answer' },
    });
  });
});

describe('probeColors', () => {
  it('asks every color in one batch and splits the answers', async () => {
    const asked: string[][] = [];
    const ask = async (targets: readonly PodTarget[]) => {
      asked.push(targets.map((x) => x.name));
      return targets.map((x): PodReport => ({ name: x.name, ok: true, established: x.name.startsWith('a') ? 1 : 0, ports: {} }));
    };
    const pods = [pod({ name: 'a1', color: 'aaaaaa', ip: '127.0.10.1' }), pod({ name: 'a2', color: 'aaaaaa', ip: '127.0.10.2' }), pod({ name: 'b1', color: 'bbbbbb', ip: '127.0.10.3' })];
    const r = await probeColors(pods, [{ color: 'aaaaaa' }, { color: 'bbbbbb' }, { color: 'cccccc' }], ask);
    expect(asked).toEqual([['a1', 'a2', 'b1']]);
    expect(Object.fromEntries([...r].map(([c, x]) => [c, x.count]))).toEqual({ aaaaaa: 2, bbbbbb: 0, cccccc: 0 });
  });
});

describe('per pod (what the shrink decides from)', () => {
  it("lists every active pod of the color with its count, removal rank and deletion cost, not terminating or finished ones", () => {
    const d = deployment({ color: 'aaaaaa' });
    const pods = [
      pod({ name: 'a2', color: 'aaaaaa', ip: '127.0.10.2', annotations: { 'controller.kubernetes.io/pod-deletion-cost': '3' } }),
      pod({ name: 'a1', color: 'aaaaaa', ip: '127.0.10.1' }),
      pod({ name: 'a3', color: 'aaaaaa', ip: null, phase: 'Pending', node: null }),
      pod({ name: 'a4', color: 'aaaaaa', ip: '127.0.10.4', deleting: true }),
      pod({ name: 'a5', color: 'aaaaaa', ip: '127.0.10.5', phase: 'Succeeded' }),
      pod({ name: 'a6', color: 'aaaaaa', ip: '127.0.10.6', ready: false }),
      pod({ name: 'b1', color: 'bbbbbb', ip: '127.0.10.7' }),
    ];
    const obs = podObservations(pods, 'aaaaaa', d, { perPod: { a1: 0, a2: 3 }, failed: { a6: 'pod a6: connection refused' } });
    expect(obs).toEqual([
      { name: 'a1', connections: 0, rank: { name: 'a1', assigned: true, phase: 2, ready: true, deletionCost: 0 } },
      { name: 'a2', connections: 3, costAnnotation: '3', rank: { name: 'a2', assigned: true, phase: 2, ready: true, deletionCost: 3 } },
      { name: 'a3', unknown: 'not running yet (phase Pending, no IP)', rank: { name: 'a3', assigned: false, phase: 0, ready: false, deletionCost: 0 } },
      { name: 'a6', unknown: 'pod a6: connection refused', rank: { name: 'a6', assigned: true, phase: 2, ready: false, deletionCost: 0 } },
    ]);
  });

  it('probeColors gives each color its pods with their counts', async () => {
    const ask = async (targets: readonly PodTarget[]) =>
      targets.map((x): PodReport => (x.name === 'a2' ? { name: x.name, ok: false, reason: 'timeout', error: 'pod a2: timeout' } : { name: x.name, ok: true, established: x.name === 'a1' ? 4 : 0, ports: {} }));
    const pods = [pod({ name: 'a1', color: 'aaaaaa', ip: '127.0.10.1' }), pod({ name: 'a2', color: 'aaaaaa', ip: '127.0.10.2' }), pod({ name: 'b1', color: 'bbbbbb', ip: '127.0.10.3' })];
    const r = await probeColors(pods, [{ color: 'aaaaaa' }, { color: 'bbbbbb' }], ask);
    expect(r.get('aaaaaa')!.pods!.map((p) => [p.name, p.connections ?? p.unknown])).toEqual([
      ['a1', 4],
      ['a2', 'pod a2: timeout'],
    ]);
    expect(r.get('aaaaaa')).toMatchObject({ count: 4, unknown: 'pod a2: timeout', perPod: { a1: 4 } });
    expect(r.get('bbbbbb')!.pods!.map((p) => [p.name, p.connections])).toEqual([['b1', 0]]);
  });
});
