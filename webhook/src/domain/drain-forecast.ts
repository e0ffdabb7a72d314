// When a draining color will reach 0 connections, as a range. Each remaining connection leaves at a
// hazard measured on the counts (departures per connection-second), extrapolated as a power of the
// time since the drain began, and the drain ends when the last of them has gone. How fast the hazard
// falls is measured (first half of the drain against the second) and then assumed to fall faster by a
// margin, because a long tail looks steady until most connections have gone; a count that stops
// falling opens the range. Pure: the caller passes `now`, and nothing here reads a clock.
import { formatDuration } from './durations.js';

/** One reading of a color's established connections (all its pods together). */
export interface ConnectionSample {
  at: Date | number;
  count: number;
}

export type DrainForecast =
  | { kind: 'unknown'; reason: string; samples: number }
  | { kind: 'drained'; since: Date }
  | {
      kind: 'estimate';
      /** Not drained before this (never before `now`). */
      earliest: Date;
      /** Drained (or deleted at the deadline) by this; absent: no bound, not before a deadline that was not given. */
      latest?: Date;
      /** The middle of the model's own answer; absent when the range is open. */
      likely?: Date;
      /** Which hazard the range came from, in words. */
      method: string;
      /** The max-drain deadline comes before the range ends: the color is deleted by then anyway. */
      deadlineFirst: boolean;
      /** Connections at the last sample. */
      remaining: number;
    };

/** Fewer readings cannot show both a rate and whether it is falling. */
export const MIN_SAMPLES = 6;
/** A shorter span shows the connections that close at once, not how the long-lived ones leave. */
export const MIN_SPAN_MS = 10 * 60_000;
/** Fewer departures measure no rate, only noise. */
export const MIN_DEPARTURES = 10;

/** How far into either tail of the last departure's time each end of the range goes. */
const RANGE_QUANTILE = 0.1;
/** Standard errors added to the measured hazard and its trend: the range holds their noise too. */
const Z = 1;
/** Standard errors a trend must pass to be called rising or falling rather than noise. */
const CALLED_A_TREND = 2;
/** How much faster than seen the hazard may fall later: a long tail looks steady until most have gone. */
const TAIL_MARGIN = 0.4;
/** The likely end takes part of the margin: between the steady reading and the long tail. */
const LIKELY_MARGIN = TAIL_MARGIN / 4;
/** The margin when the hazard is still rising: the connections are younger than their lifetimes, no tail seen. */
const UNSEEN_TAIL_MARGIN = 0.6;
/** Departures expected but not seen since the count last fell, past which the hazard no longer holds. */
const STALL_EVIDENCE = 3;
/** Beyond this the answer is "no bound": a time so far away only says the model does not know. */
const OPEN_AFTER_S = 10 * 365 * 86_400;

interface Series {
  t: number[];
  n: number[];
}

/** The count at `x` seconds, read linearly between samples. */
function countAt(s: Series, x: number): number {
  const { t, n } = s;
  let lo = 0;
  let hi = t.length - 1;
  if (x <= t[lo]!) return n[lo]!;
  if (x >= t[hi]!) return n[hi]!;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const span = t[hi]! - t[lo]!;
  return span === 0 ? n[hi]! : n[lo]! + ((n[hi]! - n[lo]!) * (x - t[lo]!)) / span;
}

/** Net departures and connection-seconds between `a` and `b`: the hazard's numerator and denominator. */
function windowOf(s: Series, a: number, b: number): { departures: number; exposure: number } {
  let exposure = 0;
  let x = a;
  let y = countAt(s, a);
  for (const next of [...s.t.filter((u) => u > a && u < b), b]) {
    const z = countAt(s, next);
    exposure += ((y + z) / 2) * (next - x);
    x = next;
    y = z;
  }
  return { departures: countAt(s, a) - y, exposure };
}

/** Cumulative hazard the last of `n` connections needs so that all are gone with probability `q`. */
function lastLeaves(q: number, n: number): number {
  return -Math.log(-Math.expm1(Math.log(q) / n));
}

/** When the hazard c·t^(−b), summed from `from`, reaches `dH`; Infinity if it never does. */
function reach(from: number, c: number, b: number, dH: number): number {
  if (c <= 0) return Infinity;
  if (Math.abs(1 - b) < 1e-9) return from * Math.exp(dH / c);
  const base = from ** (1 - b) + (dH * (1 - b)) / c;
  const at = base <= 0 ? Infinity : base ** (1 / (1 - b));
  return at > OPEN_AFTER_S ? Infinity : at;
}

const ms = (at: Date | number) => (typeof at === 'number' ? at : at.getTime());

export function forecastDrain(samples: readonly ConnectionSample[], now: Date | number, deadline?: Date | number): DrainForecast {
  const obs = samples.filter((x) => Number.isFinite(ms(x.at)) && Number.isFinite(x.count) && x.count >= 0).sort((x, y) => ms(x.at) - ms(y.at));
  const last = obs[obs.length - 1];
  const unknown = (reason: string): DrainForecast => ({ kind: 'unknown', reason, samples: obs.length });
  if (!last) return unknown('no samples');
  if (last.count === 0) {
    let i = obs.length - 1;
    while (i > 0 && obs[i - 1]!.count === 0) i--;
    return { kind: 'drained', since: new Date(ms(obs[i]!.at)) };
  }
  if (obs.length < MIN_SAMPLES) return unknown(`${obs.length} sample${obs.length === 1 ? '' : 's'}`);
  // The drain proper starts at the highest count: new clients through stale endpoints come before it.
  const top = obs.reduce((best, x, i) => (x.count > obs[best]!.count ? i : best), 0);
  const drain = obs.slice(top);
  if (drain.length < MIN_SAMPLES) return unknown(top === obs.length - 1 ? 'not falling' : `${drain.length} samples since the highest count`);
  const t0 = ms(drain[0]!.at);
  const spanMs = ms(last.at) - t0;
  if (spanMs < MIN_SPAN_MS) return unknown(`${formatDuration(spanMs / 1000)} observed`);
  const gone = drain[0]!.count - last.count;
  if (gone < MIN_DEPARTURES) return unknown(gone <= 0 ? 'not falling' : `${gone} departures`);

  // Seconds since the drain's start, the power law's origin.
  const s: Series = { t: drain.map((x) => (ms(x.at) - t0) / 1000), n: drain.map((x) => x.count) };
  const tL = spanMs / 1000;
  const early = windowOf(s, 0, tL / 2);
  const recent = windowOf(s, tL / 2, tL);
  const d = Math.max(0, recent.departures);
  // Rough Poisson bounds on the departures: zero departures still bound the hazard from above.
  const hazard = d / recent.exposure;
  const hazardHigh = (d + Z * Math.sqrt(d) + Z * Z) / recent.exposure;
  const hazardLow = Math.max(0, d - Z * Math.sqrt(d)) / recent.exposure;
  // The trend b in h ∝ t^(−b), from the ratio of the first half's hazard to the second's (half counts keep it finite).
  const de = Math.max(0, early.departures) + 0.5;
  const dr = d + 0.5;
  const ratio = de / early.exposure / (dr / recent.exposure);
  const trend = 1 - Math.log2(1 + 1 / ratio);
  const trendSe = Math.sqrt(1 / de + 1 / dr) / ((ratio + 1) * Math.LN2);
  const steady = Math.abs(trend) <= CALLED_A_TREND * trendSe;
  const trendLow = trend - Z * trendSe;
  const rising = trend < -CALLED_A_TREND * trendSe;
  const trendHigh = Math.max(0, trend + Z * trendSe) + (rising ? UNSEEN_TAIL_MARGIN : TAIL_MARGIN);
  const trendMid = Math.max(0, trend) + LIKELY_MARGIN;

  // The recent window's hazard belongs to its geometric middle.
  const tr = tL / Math.SQRT2;
  const n = last.count;
  const at = (h: number, b: number, q: number) => reach(tL, h * tr ** b, b, lastLeaves(q, n));
  // Quiet since the count was last above its present value: under the hazard, departures that should have come.
  let j = drain.length - 1;
  while (j > 0 && drain[j - 1]!.count <= n) j--;
  const stalled = d === 0 || n * hazard * (tL - s.t[j]!) > STALL_EVIDENCE;
  const method = stalled
    ? 'stalled: fewer departures lately than the hazard says'
    : steady
      ? 'steady hazard'
      : trend > 0
        ? 'falling hazard (long tail)'
        : 'rising hazard (tail not yet seen)';
  const when = (x: number) => t0 + x * 1000;
  return clampToNowAndDeadline(
    {
      earliest: when(at(hazardHigh, trendLow, RANGE_QUANTILE)),
      latest: stalled ? Infinity : when(at(hazardLow, trendHigh, 1 - RANGE_QUANTILE)),
      likely: stalled ? Infinity : when(at(hazard, trendMid, 0.5)),
    },
    ms(now),
    deadline === undefined ? undefined : ms(deadline),
    method,
    n,
  );
}

/** Ends in ms, moved to `now` when before it and to the deadline when after it. */
function clampToNowAndDeadline(
  r: { earliest: number; latest: number; likely: number },
  now: number,
  deadline: number | undefined,
  method: string,
  remaining: number,
): DrainForecast {
  let earliest = Math.max(now, r.earliest);
  let latest = Math.max(earliest, r.latest);
  let likely = Math.min(latest, Math.max(earliest, r.likely));
  let deadlineFirst = false;
  if (deadline !== undefined && deadline < latest) {
    const end = Math.max(now, deadline);
    deadlineFirst = true;
    latest = end;
    earliest = Math.min(earliest, end);
    likely = Math.min(likely, end);
  }
  // Rounded up to whole ms, so that no end is before a fractional `now`.
  const date = (x: number) => new Date(Math.ceil(x));
  return {
    kind: 'estimate',
    earliest: date(earliest),
    ...(Number.isFinite(latest) ? { latest: date(latest) } : {}),
    ...(Number.isFinite(likely) && Number.isFinite(latest) ? { likely: date(likely) } : {}),
    method,
    deadlineFirst,
    remaining,
  };
}

/** A duration for a table: whole seconds for short waits, whole minutes for long ones; `up` rounds late. */
export function roughly(seconds: number, up: boolean): string {
  const unit = seconds < 600 ? 1 : 60;
  return formatDuration((up ? Math.ceil(seconds / unit) : Math.floor(seconds / unit)) * unit);
}

/** The forecast in a table cell: `in 2h–5h`, `in 2h or later`, `by max-drain (in 4h)`, `unknown (3 samples)`, `drained`. */
export function formatForecast(f: DrainForecast, now: Date | number): string {
  if (f.kind === 'unknown') return `unknown (${f.reason})`;
  if (f.kind === 'drained') return 'drained';
  const from = (d: Date, up: boolean) => roughly(Math.max(0, (d.getTime() - ms(now)) / 1000), up);
  if (!f.latest) return `in ${from(f.earliest, false)} or later`;
  if (f.deadlineFirst && f.earliest.getTime() === f.latest.getTime()) return `by max-drain (in ${from(f.latest, true)})`;
  return `in ${from(f.earliest, false)}–${from(f.latest, true)}${f.deadlineFirst ? ' (max-drain)' : ''}`;
}
