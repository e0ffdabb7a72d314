// The drain check's observations: carried over between probes unless too far apart.
import { MAX_SAMPLES_PER_COLOR, appendSample, createDrainCheck, defaultMaxProbeGapMs, observe } from '../../../webhook/src/controller/drain-check.js';
import type { ConnectionSample } from '../../../webhook/src/domain/drain-forecast.js';
import { newAppContext } from '../../../webhook/src/controller/app-context.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';

const T0 = Date.parse('2025-11-26T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

describe('defaultMaxProbeGapMs', () => {
  it('is three intervals, at least 30 s, and no limit without a timer', () => {
    expect(defaultMaxProbeGapMs(10_000)).toBe(30_000);
    expect(defaultMaxProbeGapMs(5_000)).toBe(30_000);
    expect(defaultMaxProbeGapMs(20_000)).toBe(60_000);
    expect(defaultMaxProbeGapMs(0)).toBe(Infinity);
  });
});

describe('observe', () => {
  const zero = { count: 0 };
  it('carries zeroSince over from a probe within the gap', () => {
    const first = observe(undefined, zero, at(0), 30_000);
    expect(first).toEqual({ lastCount: 0, observedAt: at(0), zeroSince: at(0) });
    expect(observe(first, zero, at(30), 30_000)).toEqual({ lastCount: 0, observedAt: at(30), zeroSince: at(0) });
  });

  it('starts zeroSince again after a gap longer than the limit', () => {
    const first = observe(undefined, zero, at(0), 30_000);
    expect(observe(first, zero, at(30.001), 30_000)).toEqual({ lastCount: 0, observedAt: at(30.001), zeroSince: at(30.001) });
  });
});

describe('appendSample', () => {
  const sample = (i: number, count = 1000 - i): ConnectionSample => ({ at: T0 + i * 10_000, count });

  it('appends while under the bound', () => {
    expect(appendSample([sample(0), sample(1)], sample(2), 8)).toEqual([sample(0), sample(1), sample(2)]);
  });

  it('past the bound thins every other sample of the older half, keeping the first and the newer half', () => {
    const eight = Array.from({ length: 8 }, (_, i) => sample(i));
    expect(appendSample(eight, sample(8), 8)).toEqual([sample(0), sample(2), sample(4), sample(5), sample(6), sample(7), sample(8)]);
  });

  it('keeps the highest count even in the older half', () => {
    const rising = [sample(0, 10), sample(1, 50), sample(2, 40), sample(3, 30), sample(4, 20), sample(5, 15), sample(6, 12), sample(7, 11)];
    expect(appendSample(rising, sample(8, 9), 8).map((s) => s.count)).toEqual([10, 50, 40, 20, 15, 12, 11, 9]);
  });

  it('stays bounded over days of rounds and keeps their whole span, the newest rounds dense', () => {
    let series: ConnectionSample[] = [];
    let longest = 0;
    const rounds = 3 * 8640; // three days of 10 s rounds
    for (let i = 0; i < rounds; i++) {
      series = appendSample(series, sample(i, 100_000 - i));
      longest = Math.max(longest, series.length);
    }
    expect(MAX_SAMPLES_PER_COLOR).toBe(512);
    expect(longest).toBe(MAX_SAMPLES_PER_COLOR);
    expect(series[0]).toEqual(sample(0, 100_000));
    expect(series.at(-1)).toEqual(sample(rounds - 1, 100_000 - rounds + 1));
    expect(series.slice(-100)).toEqual(Array.from({ length: 100 }, (_, k) => sample(rounds - 100 + k, 100_000 - (rounds - 100 + k))));
    const times = series.map((s) => s.at as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('a clock that went back drops the samples it contradicts', () => {
    expect(appendSample([sample(0), sample(1), sample(2)], { at: T0 + 15_000, count: 7 })).toEqual([sample(0), sample(1), { at: T0 + 15_000, count: 7 }]);
  });
});

describe('createDrainCheck', () => {
  it('pods that cannot be listed make every asked color unknown', async () => {
    const ctx = newAppContext('shop', 'web');
    const selectors: string[] = [];
    const check = createDrainCheck({
      api: {
        async listPods(_ns, selector) {
          selectors.push(selector);
          throw Object.assign(new Error('forbidden'), { code: 403 });
        },
      },
      ask: async () => [],
      now: () => at(5),
      podTimeoutMs: 100,
      concurrency: 1,
      maxGapMs: 30_000,
      log: createLogger({ name: 'test', level: 'silent' }),
    });
    await check(ctx, [{ color: 'bbbbbb' }, { color: 'cccccc' }]);
    expect(selectors).toEqual(['rainbow.dev/app=web']);
    expect([...ctx.observations.keys()]).toEqual(['bbbbbb', 'cccccc']);
    expect(ctx.observations.get('bbbbbb')).toEqual({ lastCount: 0, observedAt: at(5), unknown: 'cannot list pods: forbidden' });
    expect(ctx.series.size).toBe(0); // an unknown count is no sample
  });

  it('asks nothing when no color is to be asked', async () => {
    const ctx = newAppContext('shop', 'web');
    let listed = 0;
    const check = createDrainCheck({
      api: { listPods: async () => (listed++, []) },
      ask: async () => [],
      now: () => at(0),
      podTimeoutMs: 100,
      concurrency: 1,
      maxGapMs: 30_000,
      log: createLogger({ name: 'test', level: 'silent' }),
    });
    await check(ctx, []);
    expect(listed).toBe(0);
    expect(ctx.observations.size).toBe(0);
  });
});
