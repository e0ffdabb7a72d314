// rainbow_color_drain_deadline_seconds: the controller publishes drain-started + max-drain of each
// previous color that is not kept (what the chart's RainbowColorNearMaxDrain alert reads), and
// drops it when the color is kept, serves again or is gone.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ControllerApi } from '../../../webhook/src/controller/kube-io.js';
import { createControllerLoop, type ControllerLoop } from '../../../webhook/src/controller/loop.js';
import { createControllerMetrics, forgetApp, recordDrainDeadlines, type ControllerMetrics } from '../../../webhook/src/controller/metrics.js';
import { NS, deployment, service } from '../../support/builders.js';
import { memorySource, type MemorySource } from './memory-source.js';

const NOW = Date.parse('2025-11-26T10:00:00Z');
const STARTED = '2025-11-26T09:00:00Z';
const stamped = { annotations: { 'rainbow.dev/drain-started': STARTED } };

interface Setup {
  loop: ControllerLoop;
  source: MemorySource;
  metrics: ControllerMetrics;
}

/** A loop whose writes go nowhere: the objects change only as the test puts them. */
function setup(objects: Array<V1Service | V1Deployment>): Setup {
  const source = memorySource(objects);
  const ignore = async () => undefined;
  const api: ControllerApi = { listPods: async () => [], patchService: ignore, patchDeployment: ignore, deleteDeployment: ignore, patchPod: ignore, createEvent: ignore };
  const metrics = createControllerMetrics();
  const loop = createControllerLoop({ source, api, askPods: async () => [], now: () => new Date(NOW), intervalMs: 0, debounceMs: 1, identity: 'test', metrics });
  return { loop, source, metrics };
}

const samples = async (m: ControllerMetrics) =>
  (await m.registry.getSingleMetricAsString('rainbow_color_drain_deadline_seconds')).split('\n').filter((l) => l && !l.startsWith('#'));

let current: Setup | undefined;
afterEach(async () => {
  await current?.loop.stop();
  current = undefined;
});

describe('rainbow_color_drain_deadline_seconds', () => {
  it('is drain-started + max-drain (unix seconds) of each previous color that is not kept, and absent for the others', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '1', 'rainbow.dev/max-drain': '2h' };
    current = setup([
      service({ color: 'cccccc', annotations }),
      deployment({ color: 'aaaaaa', created: '2025-11-21T09:00:00Z', ...stamped }),
      deployment({ color: 'bbbbbb', created: '2025-11-22T09:00:00Z', annotations: { 'rainbow.dev/drain-started': '2025-11-26T09:30:00Z' } }),
      deployment({ color: 'cccccc', created: '2025-11-23T09:00:00Z' }),
    ]);
    await current.loop.start();
    // bbbbbb left service last: it is the kept one; aaaaaa (no pods, so read 0) has a deadline.
    expect(current.loop.lastColors(NS, 'web')?.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['cccccc:serving', 'bbbbbb:kept', 'aaaaaa:drained']);
    expect(await samples(current.metrics)).toEqual([`rainbow_color_drain_deadline_seconds{namespace="shop",app="web",color="aaaaaa"} ${(Date.parse(STARTED) + 2 * 3600_000) / 1000}`]);
  });

  it('goes when the color serves again, and when its Deployment is gone', async () => {
    const annotations = { 'rainbow.dev/keep-colors': '0', 'rainbow.dev/max-drain': '3h' };
    current = setup([service({ color: 'cccccc', annotations }), deployment({ color: 'bbbbbb', created: '2025-11-22T09:00:00Z', ...stamped }), deployment({ color: 'cccccc', created: '2025-11-23T09:00:00Z' })]);
    await current.loop.start();
    expect(await samples(current.metrics)).toEqual([`rainbow_color_drain_deadline_seconds{namespace="shop",app="web",color="bbbbbb"} ${(Date.parse(STARTED) + 3 * 3600_000) / 1000}`]);

    // A rollback: the Service selects bbbbbb again (its old stamp no longer counts).
    current.source.put(service({ color: 'bbbbbb', annotations }));
    await current.loop.idle();
    expect(current.loop.lastColors(NS, 'web')?.colors.find((c) => c.color === 'bbbbbb')?.state).toBe('serving');
    expect(await samples(current.metrics)).toEqual([]);

    // Back on cccccc, then bbbbbb's Deployment goes.
    current.source.put(service({ color: 'cccccc', annotations }));
    await current.loop.idle();
    expect(await samples(current.metrics)).toHaveLength(1);
    current.source.remove(current.source.deployments(NS).find((d) => d.metadata?.name === 'web-bbbbbb')!);
    await current.loop.idle();
    expect(await samples(current.metrics)).toEqual([]);
  });

  it('recordDrainDeadlines sets and removes by color; forgetApp drops them all', async () => {
    const m = createControllerMetrics();
    recordDrainDeadlines(m, NS, 'web', [{ color: 'aaaaaa', drainDeadline: new Date(NOW) }, { color: 'bbbbbb', drainDeadline: new Date(NOW + 1000) }]);
    expect(await samples(m)).toEqual([
      `rainbow_color_drain_deadline_seconds{namespace="shop",app="web",color="aaaaaa"} ${NOW / 1000}`,
      `rainbow_color_drain_deadline_seconds{namespace="shop",app="web",color="bbbbbb"} ${NOW / 1000 + 1}`,
    ]);
    recordDrainDeadlines(m, NS, 'web', [{ color: 'aaaaaa' }]);
    expect(await samples(m)).toEqual([`rainbow_color_drain_deadline_seconds{namespace="shop",app="web",color="bbbbbb"} ${NOW / 1000 + 1}`]);
    forgetApp(m, NS, 'web', ['bbbbbb']);
    expect(await samples(m)).toEqual([]);
  });
});
