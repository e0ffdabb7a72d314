// The peers benchmark's pure parts (scripts/bench/peers/plan.ts and figures.ts): the lifetime
// plan, pod-seconds from samples, and the figures from the clients' records.
import { colorOfLine, goneAt, podSeconds, summariseProbes, summariseStreams, type ProbeRecord, type StreamRecord } from '../../../scripts/bench/peers/figures.js';
import { DEFAULT_LIFETIMES, planLifetimesMs, probeKind, summarisePlan } from '../../../scripts/bench/peers/plan.js';

describe('the lifetime plan', () => {
  test('is the same for the same seed, and another for another seed', () => {
    expect(planLifetimesMs(DEFAULT_LIFETIMES)).toEqual(planLifetimesMs(DEFAULT_LIFETIMES));
    expect(planLifetimesMs({ ...DEFAULT_LIFETIMES, seed: 1 })).not.toEqual(planLifetimesMs(DEFAULT_LIFETIMES));
  });

  test('the default: 200 streams, long-tailed around an 18 s median, capped at 120 s, many outliving 30 s', () => {
    const ms = planLifetimesMs(DEFAULT_LIFETIMES);
    const p = summarisePlan(ms, DEFAULT_LIFETIMES);
    expect(p.count).toBe(200);
    expect(ms.every((x) => Number.isInteger(x) && x > 0 && x <= 120_000)).toBe(true);
    expect(p.p50S).toBeGreaterThan(13);
    expect(p.p50S).toBeLessThan(24);
    expect(p.maxS).toBeLessThanOrEqual(120);
    // lognormal σ 1: ~30% over 30 s, a few percent at the cap.
    expect(p.over30s).toBeGreaterThan(40);
    expect(p.over30s).toBeLessThan(90);
    expect(p.over60s).toBeGreaterThan(5);
    expect(p.atCap).toBeGreaterThanOrEqual(1);
  });

  test('σ 0 is every stream at the median; a median above the cap is the cap', () => {
    expect(new Set(planLifetimesMs({ count: 5, medianS: 7, sigma: 0, capS: 120, seed: 3 }))).toEqual(new Set([7000]));
    expect(new Set(planLifetimesMs({ count: 5, medianS: 500, sigma: 0, capS: 120, seed: 3 }))).toEqual(new Set([120_000]));
    expect(() => planLifetimesMs({ count: 5, medianS: 0, sigma: 1, capS: 120, seed: 3 })).toThrow(/bad lifetime plan/);
  });

  test('short connections alternate HTTP and TCP', () => {
    expect([0, 1, 2, 3].map(probeKind)).toEqual(['http', 'tcp', 'http', 'tcp']);
  });
});

describe('pod-seconds', () => {
  const T = 1_000_000;
  test('each sample holds until the next, clipped to the window', () => {
    const samples = [
      { t: T, count: 4 },
      { t: T + 10_000, count: 2 },
      { t: T + 15_000, count: 0 },
    ];
    expect(podSeconds(samples, T, T + 15_000)).toBe(4 * 10 + 2 * 5);
    expect(podSeconds(samples, T + 5000, T + 12_000)).toBe(4 * 5 + 2 * 2);
    // The last sample's count holds until the end of the window.
    expect(podSeconds([{ t: T, count: 3 }], T, T + 2000)).toBe(6);
    expect(podSeconds([], T, T + 2000)).toBe(0);
  });

  test('the old version is gone from the first 0 that stays 0', () => {
    expect(goneAt([{ t: 1, count: 2 }, { t: 2, count: 0 }, { t: 3, count: 1 }, { t: 4, count: 0 }, { t: 5, count: 0 }])).toBe(4);
    expect(goneAt([{ t: 1, count: 2 }, { t: 2, count: 1 }])).toBeUndefined();
    expect(goneAt([])).toBeUndefined();
  });
});

describe('the clients records', () => {
  const R = 2_000_000;
  const stream = (i: number, end: StreamRecord['end'], endedAfter: number | undefined, plannedMs: number, color = 'aaaaaa'): StreamRecord => ({
    i,
    plannedMs,
    openedAt: R - 5000,
    color,
    lines: [
      [R - 5000, color],
      [R + 1000, color],
    ],
    endedAt: endedAfter === undefined ? undefined : R + endedAfter,
    end,
  });

  test('streams: cut are the ones the server side ended, by how; the last old stream end; lines after the release', () => {
    const f = summariseStreams(
      [
        stream(0, 'planned', 5000, 5000),
        stream(1, 'fin', 31_000, 60_000),
        stream(2, 'reset', 32_000, 45_000),
        stream(3, 'silent', 40_000, 90_000),
        stream(4, 'planned', 70_000, 70_000),
      ],
      R,
      'aaaaaa',
    );
    expect(f).toMatchObject({ total: 5, onOld: 5, closedAsPlanned: 2, cut: 3, cutBy: { fin: 1, reset: 1, error: 0, silent: 1 }, stillOpen: 0, firstCutS: 31, lastCutS: 40, shortestCutPlanS: 45 });
    expect(f.lastOldStreamEndAt).toBe(R + 70_000);
    expect(f.linesAfterRelease).toBe(5);
  });

  test('no last old stream end while one of them is still open', () => {
    const f = summariseStreams([stream(0, 'planned', 5000, 5000), stream(1, 'open', undefined, 200_000)], R, 'aaaaaa');
    expect(f.stillOpen).toBe(1);
    expect(f.cut).toBe(0);
    expect(f.firstCutS).toBeUndefined();
    expect(f.lastOldStreamEndAt).toBeUndefined();
  });

  const probe = (afterMs: number, color?: string, error?: string, kind: 'http' | 'tcp' = 'http'): ProbeRecord => ({ at: R + afterMs, kind, ms: 3, color, error });

  test('short connections: failures by kind and error, first new answer, all new from after the last old one or failure', () => {
    const f = summariseProbes(
      [
        probe(-100, 'aaaaaa'),
        probe(-50, undefined, 'ECONNREFUSED'),
        probe(0, 'aaaaaa'),
        probe(500, 'bbbbbb'),
        probe(1000, 'aaaaaa'),
        probe(1500, undefined, 'ECONNREFUSED', 'tcp'),
        probe(2000, undefined, 'ECONNREFUSED', 'tcp'),
        probe(2500, undefined, 'ETIMEDOUT'),
        probe(3000, 'bbbbbb'),
        probe(3500, 'bbbbbb'),
        probe(99_000, 'bbbbbb'), // after the end: not counted
      ],
      R,
      R + 10_000,
      'aaaaaa',
      'bbbbbb',
    );
    expect(f).toMatchObject({ total: 8, failed: 3, answeredOld: 2, answeredNew: 3, answeredOther: 0, firstNewS: 0.5, allNewS: 3, lastOldS: 1, failedBeforeRelease: 1, beforeRelease: 2 });
    expect(f.failures).toEqual([
      { error: 'ECONNREFUSED', kind: 'tcp', count: 2 },
      { error: 'ETIMEDOUT', kind: 'http', count: 1 },
    ]);
  });

  test('never all new when the last answer is old; never new at all', () => {
    const f = summariseProbes([probe(0, 'bbbbbb'), probe(500, 'aaaaaa')], R, R + 1000, 'aaaaaa', 'bbbbbb');
    expect(f.firstNewS).toBe(0);
    expect(f.allNewS).toBeUndefined();
    const g = summariseProbes([probe(0, 'aaaaaa')], R, R + 1000, 'aaaaaa', 'bbbbbb');
    expect(g.firstNewS).toBeUndefined();
    expect(g.allNewS).toBeUndefined();
  });

  test('the color a line of the demo app names', () => {
    expect(colorOfLine('The color is #1f77b4')).toBe('1f77b4');
    expect(colorOfLine('hello')).toBeUndefined();
  });
});
