// `npm run bench -- forecast`: the drain forecast on simulated drains whose end is known. Each run
// draws connection lifetimes from one family, reads the count as the controller would, and asks for
// a forecast at several points of the drain. Pure computation, no cluster.
import { forecastDrain, type ConnectionSample, type DrainForecast } from '../../webhook/src/domain/drain-forecast.js';
import { mulberry32 } from './seeded-random.js';


const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const HOUR = 3600;
/** Connections of the stubborn family that stay for days. */
export const STUBBORN = 3;

export const FAMILIES = ['exponential', 'lognormal', 'pareto', 'stubborn', 'rising', 'irregular', 'lognormal-at-switch'] as const;
export type Family = (typeof FAMILIES)[number];

/** Lifetimes in seconds, of a like typical length in every family so that only their shapes differ. */
const LIFETIME: Record<Family, (r: () => number) => number> = {
  exponential: (r) => -Math.log(1 - r()) * 2 * HOUR,
  lognormal: (r) => Math.exp(gauss(r)) * HOUR,
  // Lomax (Pareto type II): the heaviest tail here, yet with a finite mean.
  pareto: (r) => ((1 - r()) ** (-1 / 1.5) - 1) * 1.7 * HOUR,
  stubborn: (r) => -Math.log(1 - r()) * HOUR,
  rising: (r) => Math.exp(gauss(r)) * HOUR,
  irregular: (r) => Math.exp(gauss(r)) * HOUR,
  'lognormal-at-switch': (r) => Math.exp(gauss(r)) * HOUR,
};

export interface SimulatedDrain {
  family: Family;
  /** The switch, in ms. */
  start: number;
  /** The last connection's close, in ms: what the forecast should hold. */
  drainedAt: number;
  connections: number;
  samples: ConnectionSample[];
}

export interface SimulationOptions {
  connections?: number;
  /** Seconds between counts, each jittered a little (the irregular family has its own). */
  every?: number;
  /** Stop sampling this long after the switch even if connections remain. */
  horizon?: number;
}

/**
 * One drain: `connections` open at the switch, opened at a steady rate over the day before it (so
 * their remaining lifetimes are those of connections of all ages), except in lognormal-at-switch,
 * where all were opened at the switch. The irregular family is sampled at uneven intervals with
 * hours-long gaps; the rising one gets a burst of new clients through stale endpoints right after
 * the switch; the stubborn one has a few connections staying for days.
 */
export function simulateDrain(family: Family, seed: number, options: SimulationOptions = {}): SimulatedDrain {
  const r = mulberry32(seed);
  const connections = options.connections ?? 500;
  const lifetime = LIFETIME[family];
  const ends: number[] = [];
  while (ends.length < connections) {
    if (family === 'lognormal-at-switch') {
      ends.push(lifetime(r));
      continue;
    }
    const end = -r() * 24 * HOUR + lifetime(r);
    if (end > 0) ends.push(end);
  }
  if (family === 'stubborn') for (let i = 0; i < STUBBORN; i++) ends[i] = (3 + 2 * r()) * 24 * HOUR;
  const starts: number[] = [];
  if (family === 'rising') {
    for (let i = 0; i < connections / 5; i++) {
      const start = (r() * HOUR) / 6;
      starts.push(start);
      ends.push(start + lifetime(r));
    }
  }
  ends.sort((a, b) => a - b);
  starts.sort((a, b) => a - b);
  const last = ends[ends.length - 1]!;
  const every = options.every ?? 300;
  const horizon = Math.min(options.horizon ?? 60 * 24 * HOUR, last + every);
  const alive = (t: number) => connections + upTo(starts, t) - upTo(ends, t);
  const start = Date.UTC(2026, 0, 1);
  const samples: ConnectionSample[] = [];
  for (let t = 0; t <= horizon; ) {
    let count = alive(t);
    // Some pods answer late or not at all: a count off by a few, never 0 while connections remain.
    if (family === 'irregular' && count > 0) count = Math.max(1, Math.round(count * (1 + 0.03 * gauss(r))));
    samples.push({ at: start + Math.round(t * 1000), count });
    if (count === 0) break;
    if (family === 'irregular') t += r() < 0.03 ? (1 + 2 * r()) * HOUR : (1 + 19 * r()) * 60;
    else t += every * (0.9 + 0.2 * r());
  }
  return { family, start, drainedAt: start + last * 1000, connections, samples };
}

/** How many of the sorted `xs` are ≤ t. */
function upTo(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Seen {
  samples: ConnectionSample[];
  now: number;
}

/** The samples up to the first reading at or below `1 − gone` of the connections, and its moment. */
export function seenUntilGone(d: SimulatedDrain, gone: number): Seen | undefined {
  return seenUntil(d, d.samples.findIndex((x) => x.count <= (1 - gone) * d.connections));
}

/** The samples until `hours` after the count first fell to `left` (the stubborn ones, when only they remain). */
export function seenAfterStuck(d: SimulatedDrain, left: number, hours: number): Seen | undefined {
  const i = d.samples.findIndex((x) => x.count <= left);
  if (i < 0) return undefined;
  const at = (d.samples[i]!.at as number) + hours * HOUR * 1000;
  return seenUntil(d, d.samples.findIndex((x) => (x.at as number) >= at));
}

function seenUntil(d: SimulatedDrain, i: number): Seen | undefined {
  return i < 0 ? undefined : { samples: d.samples.slice(0, i + 1), now: d.samples[i]!.at as number };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface ForecastRow {
  family: Family;
  /** When the forecast is asked: a share of the connections gone, or hours after only the stubborn remain. */
  at: string;
  runs: number;
  /** Percent of runs answered `unknown`. */
  unknown: number;
  /** Percent of answered runs whose range holds the true end (an open range holds any end after `earliest`). */
  covered: number;
  /** Percent of answered runs whose `latest` came before the true end: a confident wrong answer. */
  latestTooEarly: number;
  /** Percent of answered runs with no `latest`. */
  open: number;
  /** |likely − end| / (end − now), median and p90, over runs with a `likely`. */
  likelyError: { p50: number; p90: number };
  /** (latest − earliest) / (end − now), median, over closed ranges. */
  width: number;
}

export function benchForecast(
  runs = 200,
  seed = Number(process.env.RAINBOW_FORECAST_SEED ?? 1),
  connections = 500,
): { seed: number; runs: number; connections: number; rows: ForecastRow[] } {
  const gonePoints = [0.1, 0.25, 0.5, 0.75, 0.99].map((gone) => ({ at: `${gone * 100}% gone`, seen: (d: SimulatedDrain) => seenUntilGone(d, gone) }));
  const stuckPoints = [1, 3, 12].map((hours) => ({ at: `stuck +${hours}h`, seen: (d: SimulatedDrain) => seenAfterStuck(d, STUBBORN, hours) }));
  const rows: ForecastRow[] = [];
  for (const [f, family] of FAMILIES.entries()) {
    const drains = Array.from({ length: runs }, (_, i) => simulateDrain(family, seed * 1_000_003 + f * 10_007 + i, { connections }));
    for (const point of family === 'stubborn' ? [...gonePoints, ...stuckPoints] : gonePoints) {
      let asked = 0;
      let unknown = 0;
      let covered = 0;
      let early = 0;
      let open = 0;
      const errors: number[] = [];
      const widths: number[] = [];
      for (const d of drains) {
        const seen = point.seen(d);
        if (!seen) continue;
        asked += 1;
        const fc: DrainForecast = forecastDrain(seen.samples, seen.now);
        if (fc.kind !== 'estimate') {
          unknown += 1;
          continue;
        }
        const remaining = d.drainedAt - seen.now;
        const latest = fc.latest?.getTime() ?? Infinity;
        if (fc.earliest.getTime() <= d.drainedAt && d.drainedAt <= latest) covered += 1;
        if (latest < d.drainedAt) early += 1;
        if (!fc.latest) open += 1;
        if (fc.likely) errors.push(Math.abs(fc.likely.getTime() - d.drainedAt) / remaining);
        if (fc.latest) widths.push((latest - fc.earliest.getTime()) / remaining);
      }
      const answered = asked - unknown;
      const pct = (x: number) => (answered ? Math.round((100 * x) / answered) : NaN);
      const r2 = (x: number) => Math.round(x * 100) / 100;
      rows.push({
        family,
        at: point.at,
        runs: asked,
        unknown: Math.round((100 * unknown) / asked),
        covered: pct(covered),
        latestTooEarly: pct(early),
        open: pct(open),
        likelyError: { p50: r2(quantile(errors, 0.5)), p90: r2(quantile(errors, 0.9)) },
        width: r2(quantile(widths, 0.5)),
      });
    }
  }
  const head = ['family', 'asked at', 'unknown', 'covered', 'latest<end', 'open', 'likely err p50', 'p90', 'width p50'];
  const cell = (x: number, unit = '') => (Number.isNaN(x) ? '–' : `${x}${unit}`);
  const table = rows.map((x) => [
    x.family,
    x.at,
    `${x.unknown}%`,
    cell(x.covered, '%'),
    cell(x.latestTooEarly, '%'),
    cell(x.open, '%'),
    cell(x.likelyError.p50),
    cell(x.likelyError.p90),
    cell(x.width),
  ]);
  const widthsOf = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widthsOf[i]!) : c.padStart(widthsOf[i]!))).join('  ');
  console.log('\ndrain forecast on simulated drains whose end is known (no cluster)');
  console.log(`  ${runs} seeded drains per family (seed ${seed}), ${connections} connections each, counts every ~5 min`);
  console.log(line(head));
  for (const row of table) console.log(line(row));
  return { seed, runs, connections, rows };
}
