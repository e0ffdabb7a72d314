// The dashboard's sample store: what a window returns, how far back it reaches, what it forgets.
import { SampleStore, WINDOWS, WINDOW_NAMES, isWindowName } from '../../../webhook/src/status/dashboard/samples.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const S = 2000; // the default interval

/** Appends `values[i]` for (app, color) at T0 + i·interval. */
function fill(store: SampleStore, app: string, color: string, values: Array<number | null>, start = T0, step = S): void {
  values.forEach((value, i) => store.append(start + i * step, [{ app, color, value }]));
}

describe('dashboard sample store', () => {
  it('offers the windows the page shows', () => {
    expect(WINDOW_NAMES).toEqual(['5m', '15m', '1h', '6h', 'all']);
    expect(isWindowName('1h')).toBe(true);
    expect(isWindowName('2h')).toBe(false);
    expect(isWindowName('toString')).toBe(false);
  });

  it('returns an app’s colors on one time axis, with unknown counts as gaps (null)', () => {
    const store = new SampleStore({ intervalMs: S });
    store.append(T0, [{ app: 'shop/web', color: 'aaaaaa', value: 3 }, { app: 'shop/web', color: 'bbbbbb', value: 0 }]);
    store.append(T0 + S, [{ app: 'shop/web', color: 'aaaaaa', value: null }, { app: 'shop/web', color: 'bbbbbb', value: 1 }]);
    store.append(T0 + 2 * S, [{ app: 'shop/web', color: 'bbbbbb', value: 2 }]);
    expect(store.query('shop/web', undefined, T0 + 2 * S)).toEqual({
      t: [T0, T0 + S, T0 + 2 * S],
      series: [
        { color: 'aaaaaa', values: [3, null, null] },
        { color: 'bbbbbb', values: [0, 1, 2] },
      ],
    });
    expect(store.query('shop/other', undefined, T0)).toEqual({ t: [], series: [] });
  });

  it('a window keeps only the samples since its start', () => {
    const store = new SampleStore({ intervalMs: S });
    fill(store, 'a', 'c', Array.from({ length: 600 }, (_, i) => i)); // 20 minutes
    const to = T0 + 599 * S;
    const q = store.query('a', to - WINDOWS['5m'], to);
    expect(q.t[0]).toBe(to - WINDOWS['5m']);
    expect(q.t).toHaveLength(151);
    expect(q.series[0]!.values.at(-1)).toBe(599);
  });

  it('thins a long window to maxPoints buckets and keeps each bucket’s peak', () => {
    const store = new SampleStore({ intervalMs: S });
    const values = Array.from({ length: 1000 }, () => 1);
    values[537] = 40;
    fill(store, 'a', 'c', values);
    const q = store.query('a', undefined, T0 + 999 * S, 100);
    expect(q.t.length).toBeLessThanOrEqual(100);
    expect(Math.max(...(q.series[0]!.values as number[]))).toBe(40);
    expect(q.t).toEqual([...q.t].sort((x, y) => x - y));
    expect(q.t.at(-1)).toBe(T0 + 999 * S);
  });

  it('holds a bounded number of points however long it runs, and reaches further back a point a minute', () => {
    const store = new SampleStore({ intervalMs: S, fineSpanMs: 10 * 60_000, maxCoarsePoints: 30 });
    fill(store, 'a', 'c', Array.from({ length: 3 * 3600 / 2 }, (_, i) => (i < 900 ? 5 : 1))); // 3 hours
    const fine = Math.ceil((10 * 60_000) / S) + 1;
    expect(store.pointCount()).toBeLessThanOrEqual(fine + 30);
    const to = T0 + (3 * 1800 - 1) * S;
    const all = store.query('a', undefined, to, 10_000);
    // The last 10 minutes at every sample; before them, the minutes of the last 30 not covered by those.
    const fineOldest = to - (fine - 1) * S;
    expect(all.t.filter((t) => t >= fineOldest)).toHaveLength(fine);
    const older = all.t.filter((t) => t < fineOldest);
    expect(older.length).toBeGreaterThanOrEqual(19);
    expect(older.length).toBeLessThanOrEqual(20);
    expect(older.every((t, i) => i === 0 || t - older[i - 1]! === 60_000)).toBe(true);
    expect(fineOldest - older.at(-1)!).toBeLessThanOrEqual(60_000);
  });

  it('a minute point shows the largest known count of that minute, or a gap if none was known', () => {
    const store = new SampleStore({ intervalMs: 20_000, fineSpanMs: 40_000 });
    // minute 0: 1, 7, 2; minute 1: unknown ×3; minute 2..: 0
    fill(store, 'a', 'c', [1, 7, 2, null, null, null, 0, 0, 0, 0, 0, 0], T0, 20_000);
    const q = store.query('a', undefined, T0 + 11 * 20_000, 1000);
    const minute = (m: number) => q.series[0]!.values[q.t.findIndex((t) => Math.floor((t - T0) / 60_000) === m)];
    expect(minute(0)).toBe(7);
    expect(minute(1)).toBeNull();
  });

  it('forgets a color no longer reported once its last sample is older than the retention, then the app', () => {
    const store = new SampleStore({ intervalMs: S, goneRetentionMs: 60_000 });
    store.append(T0, [{ app: 'a', color: 'old', value: 1 }, { app: 'a', color: 'new', value: 0 }, { app: 'b', color: 'x', value: 2 }]);
    const present = new Map([['a', new Set(['new'])]]);
    store.evictGone(present, T0 + 59_999);
    expect(store.colorsOf('a')).toEqual(['new', 'old']);
    expect(store.appKeys()).toEqual(['a', 'b']);
    store.evictGone(present, T0 + 60_000);
    expect(store.colorsOf('a')).toEqual(['new']);
    expect(store.appKeys()).toEqual(['a']);
  });

  it('a color still reported is kept however old its samples', () => {
    const store = new SampleStore({ intervalMs: S, goneRetentionMs: 1000 });
    store.append(T0, [{ app: 'a', color: 'c', value: 1 }]);
    store.evictGone(new Map([['a', new Set(['c'])]]), T0 + 3600_000);
    expect(store.colorsOf('a')).toEqual(['c']);
  });

  it('caps the number of series, dropping the least recently sampled', () => {
    const store = new SampleStore({ intervalMs: S, maxSeries: 3 });
    for (let i = 0; i < 5; i++) store.append(T0 + i * S, [{ app: `app${i}`, color: 'c', value: i }]);
    expect(store.seriesCount()).toBe(3);
    expect(store.appKeys()).toEqual(['app2', 'app3', 'app4']);
  });

  it('ignores a sample at or before the last one of its series (a clock step back)', () => {
    const store = new SampleStore({ intervalMs: S });
    store.append(T0 + S, [{ app: 'a', color: 'c', value: 1 }]);
    store.append(T0, [{ app: 'a', color: 'c', value: 9 }]);
    store.append(T0 + S, [{ app: 'a', color: 'c', value: 9 }]);
    expect(store.query('a', undefined, T0 + S)).toEqual({ t: [T0 + S], series: [{ color: 'c', values: [1] }] });
  });
});
