import type { PodReport, PodTarget } from '../../../webhook/src/connections/ask-pods.js';
import { colorTargets, podTarget, probeColors, summarize } from '../../../webhook/src/controller/probe.js';
import { deployment, pod } from '../policies/builders.js';

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
    expect(summarize([t('a'), t('b')], [ok('a', 2), ok('b', 3)])).toEqual({ count: 5, errors: [] });
  });

  it('no pods is 0 (nothing can hold a connection)', () => {
    expect(summarize([], [])).toEqual({ count: 0, errors: [] });
  });

  it('any pod without a count makes it unknown', () => {
    const r = summarize([t('a'), t('b'), t('c')], [ok('a', 0), { name: 'b', ok: false, reason: 'timeout', error: 'pod b: timeout after 2000 ms' }]);
    expect(r).toEqual({ count: 0, unknown: 'pod b: timeout after 2000 ms (and 1 more pod)', errors: ['pod b: timeout after 2000 ms', 'pod c: no answer'] });
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
