// The dashboard's memory of connection counts (pure): one series per app and color, every sample
// of the last hours in a fixed-size ring and one point a minute further back, so memory stays
// bounded however long the dashboard runs and however many colors come and go.

/** The chart windows the page offers; `all` is everything still in memory. */
export const WINDOWS = { '5m': 5 * 60_000, '15m': 15 * 60_000, '1h': 3600_000, '6h': 6 * 3600_000, all: undefined } as const;

export type WindowName = keyof typeof WINDOWS;

export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

export function isWindowName(s: string): s is WindowName {
  return Object.prototype.hasOwnProperty.call(WINDOWS, s);
}

export interface SampleStoreOptions {
  /** The sampling period: sizes the ring of full-resolution samples. */
  intervalMs: number;
  /** How far back every sample is kept (default 6 h, the largest window but `all`). */
  fineSpanMs?: number;
  /** Most full-resolution samples per series whatever the interval (default 21,600). */
  maxFinePoints?: number;
  /** Width of one point further back (default 1 min). */
  coarseStepMs?: number;
  /** Points kept further back per series (default 10,080: a week of minutes). */
  maxCoarsePoints?: number;
  /** A color or app no longer reported keeps its series this long after its last sample, so its line's end stays on the chart (default 15 min). */
  goneRetentionMs?: number;
  /** Most series at once; the least recently sampled go first (default 2,000). */
  maxSeries?: number;
}

/** One sample: a color's connections at a time, `null` when they could not be counted. */
export interface Sample {
  app: string;
  color: string;
  value: number | null;
}

/** Series of one app aligned on one time axis, as the chart draws them. */
export interface AppSeries {
  /** Times in ms since the epoch, ascending. */
  t: number[];
  series: Array<{ color: string; values: Array<number | null> }>;
}

/** Fixed-capacity ring of (time, value) pairs; NaN is a sample whose count was unknown. */
class Ring {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private start = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(t: number, v: number): void {
    const i = (this.start + this.length) % this.capacity;
    this.times[i] = t;
    this.values[i] = v;
    if (this.length < this.capacity) this.length++;
    else this.start = (this.start + 1) % this.capacity;
  }

  timeAt(k: number): number {
    return this.times[(this.start + k) % this.capacity]!;
  }

  valueAt(k: number): number {
    return this.values[(this.start + k) % this.capacity]!;
  }
}

class Series {
  readonly fine: Ring;
  readonly coarse: Ring;
  /** The minute being accumulated into `coarse`: its index, last time and largest known value. */
  private bucket: { index: number; t: number; max: number } | undefined;
  lastAt = -Infinity;

  constructor(fineCapacity: number, coarseCapacity: number, private readonly step: number) {
    this.fine = new Ring(fineCapacity);
    this.coarse = new Ring(coarseCapacity);
  }

  append(t: number, v: number): void {
    if (t <= this.lastAt) return; // a clock step back would break the time order the queries rely on
    this.lastAt = t;
    this.fine.push(t, v);
    const index = Math.floor(t / this.step);
    if (this.bucket && this.bucket.index !== index) {
      this.coarse.push(this.bucket.t, this.bucket.max);
      this.bucket = undefined;
    }
    if (!this.bucket) this.bucket = { index, t, max: v };
    else {
      this.bucket.t = t;
      if (!Number.isNaN(v) && (Number.isNaN(this.bucket.max) || v > this.bucket.max)) this.bucket.max = v;
    }
  }

  /** Points with from <= t <= to: every sample the fine ring still has, one a minute before it. */
  points(from: number, to: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const fineOldest = this.fine.length > 0 ? this.fine.timeAt(0) : Infinity;
    if (from < fineOldest) {
      for (let k = 0; k < this.coarse.length; k++) {
        const t = this.coarse.timeAt(k);
        if (t >= from && t < fineOldest && t <= to) out.push([t, this.coarse.valueAt(k)]);
      }
    }
    for (let k = 0; k < this.fine.length; k++) {
      const t = this.fine.timeAt(k);
      if (t >= from && t <= to) out.push([t, this.fine.valueAt(k)]);
    }
    return out;
  }
}

export class SampleStore {
  private readonly apps = new Map<string, Map<string, Series>>();
  private readonly fineCapacity: number;
  private readonly coarseCapacity: number;
  private readonly step: number;
  private readonly goneRetentionMs: number;
  private readonly maxSeries: number;

  constructor(opts: SampleStoreOptions) {
    const interval = Math.max(1, opts.intervalMs);
    this.fineCapacity = Math.max(2, Math.min(opts.maxFinePoints ?? 21_600, Math.ceil((opts.fineSpanMs ?? WINDOWS['6h']) / interval) + 1));
    this.coarseCapacity = Math.max(1, opts.maxCoarsePoints ?? 10_080);
    this.step = Math.max(1, opts.coarseStepMs ?? 60_000);
    this.goneRetentionMs = opts.goneRetentionMs ?? 15 * 60_000;
    this.maxSeries = Math.max(1, opts.maxSeries ?? 2_000);
  }

  /** Records one round of samples taken at `at` (ms). */
  append(at: number, samples: readonly Sample[]): void {
    for (const s of samples) {
      let colors = this.apps.get(s.app);
      if (!colors) this.apps.set(s.app, (colors = new Map()));
      let series = colors.get(s.color);
      if (!series) colors.set(s.color, (series = new Series(this.fineCapacity, this.coarseCapacity, this.step)));
      series.append(at, s.value === null || !Number.isFinite(s.value) ? NaN : s.value);
    }
    this.enforceMaxSeries();
  }

  /**
   * Drops the series of colors and apps not in `present` (keys `app` → colors) whose last sample
   * is older than the retention at `now`.
   */
  evictGone(present: ReadonlyMap<string, ReadonlySet<string>>, now: number): void {
    for (const [app, colors] of this.apps) {
      const live = present.get(app);
      for (const [color, series] of colors) {
        if (live?.has(color)) continue;
        if (now - series.lastAt >= this.goneRetentionMs) colors.delete(color);
      }
      if (colors.size === 0) this.apps.delete(app);
    }
  }

  /** The apps with series, sorted. */
  appKeys(): string[] {
    return [...this.apps.keys()].sort();
  }

  /** Colors with a series for `app`, sorted. */
  colorsOf(app: string): string[] {
    return [...(this.apps.get(app)?.keys() ?? [])].sort();
  }

  seriesCount(): number {
    let n = 0;
    for (const colors of this.apps.values()) n += colors.size;
    return n;
  }

  /** Points held in memory, every series and both resolutions together. */
  pointCount(): number {
    let n = 0;
    for (const colors of this.apps.values()) for (const s of colors.values()) n += s.fine.length + s.coarse.length;
    return n;
  }

  /** A color's known counts since `from` (ms), oldest first: every sample, one a minute before the fine ring. */
  samples(app: string, color: string, from = -Infinity): Array<{ at: number; count: number }> {
    const series = this.apps.get(app)?.get(color);
    if (!series) return [];
    return series
      .points(from, Infinity)
      .filter(([, v]) => !Number.isNaN(v))
      .map(([at, count]) => ({ at, count }));
  }

  /**
   * The app's series from `from` (undefined: everything kept) to `to`, on one time axis of at
   * most `maxPoints` points: beyond that, times are grouped in equal buckets, each showing the
   * largest count in it (a peak is never hidden) at the bucket's last sample.
   */
  query(app: string, from: number | undefined, to: number, maxPoints = 600): AppSeries {
    const colors = this.apps.get(app);
    if (!colors) return { t: [], series: [] };
    const names = [...colors.keys()].sort();
    const perColor = names.map((c) => colors.get(c)!.points(from ?? -Infinity, to));
    const times = [...new Set(perColor.flatMap((ps) => ps.map(([t]) => t)))].sort((a, b) => a - b);
    if (times.length === 0) return { t: [], series: names.map((color) => ({ color, values: [] })) };

    const first = times[0]!;
    const last = times[times.length - 1]!;
    const limit = Math.max(1, Math.floor(maxPoints));
    const bucketOf =
      times.length <= limit
        ? (() => {
            const index = new Map(times.map((t, i) => [t, i]));
            return (t: number) => index.get(t)!;
          })()
        : (t: number) => Math.min(limit - 1, Math.floor(((t - first) / (last - first || 1)) * limit));
    const buckets = times.length <= limit ? times.length : limit;
    const bucketTime = new Array<number>(buckets).fill(NaN);
    for (const t of times) bucketTime[bucketOf(t)] = t; // ascending: ends as the bucket's last time
    const values = perColor.map(() => new Array<number | null | undefined>(buckets).fill(undefined));
    perColor.forEach((ps, ci) => {
      const row = values[ci]!;
      for (const [t, v] of ps) {
        const b = bucketOf(t);
        const prev = row[b];
        if (Number.isNaN(v)) row[b] = prev ?? null;
        else row[b] = prev === undefined || prev === null || v > prev ? v : prev;
      }
    });
    const keep = bucketTime.map((t) => !Number.isNaN(t));
    return {
      t: bucketTime.filter((_, i) => keep[i]),
      series: names.map((color, ci) => ({ color, values: values[ci]!.filter((_, i) => keep[i]).map((v) => (v === undefined ? null : v)) })),
    };
  }

  private enforceMaxSeries(): void {
    let excess = this.seriesCount() - this.maxSeries;
    if (excess <= 0) return;
    const all: Array<{ app: string; color: string; lastAt: number }> = [];
    for (const [app, colors] of this.apps) for (const [color, s] of colors) all.push({ app, color, lastAt: s.lastAt });
    all.sort((a, b) => a.lastAt - b.lastAt);
    for (const { app, color } of all) {
      if (excess-- <= 0) break;
      const colors = this.apps.get(app)!;
      colors.delete(color);
      if (colors.size === 0) this.apps.delete(app);
    }
  }
}
