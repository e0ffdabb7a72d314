// The drain forecast as the controller publishes it on a draining color's Deployment
// (rainbow.dev/drain-forecast), so that `rainbow status`, which keeps no history, can show it.
// Bounds are absolute times, so a reader recomputes "in 2h–5h" against its own clock. The value is
// one small JSON object:
//   {"earliest":"<RFC 3339>","latest":"<RFC 3339>","deadlineFirst":true,"remaining":N,"computedAt":"<RFC 3339>"}
//     (latest absent: no bound; deadlineFirst present only when true)
//   {"unknown":"<reason>","computedAt":"<RFC 3339>"}
import { formatDrainStarted, parseDrainStarted } from './color-states.js';
import { formatForecast, type DrainForecast } from './drain-forecast.js';
import { parseJsonObject } from './objects.js';

export type PublishedForecast =
  | { kind: 'estimate'; earliest: Date; latest?: Date; deadlineFirst: boolean; remaining: number; computedAt: Date }
  /** computedAt is absent only for a stand-in of an unreadable annotation. */
  | { kind: 'unknown'; reason: string; computedAt?: Date };

const floorS = (d: Date | number) => new Date(Math.floor(new Date(d).getTime() / 1000) * 1000);
const ceilS = (d: Date | number) => new Date(Math.ceil(new Date(d).getTime() / 1000) * 1000);

/** What the controller publishes of a forecast, in whole seconds; nothing for a drained color. */
export function publishForecast(f: DrainForecast, computedAt: Date): PublishedForecast | undefined {
  if (f.kind === 'drained') return undefined;
  const at = floorS(computedAt);
  if (f.kind === 'unknown') return { kind: 'unknown', reason: f.reason, computedAt: at };
  const latest = f.latest ? ceilS(f.latest) : undefined;
  // A range that is one instant (the deadline) stays one instant after rounding.
  const earliest = latest && f.latest!.getTime() === f.earliest.getTime() ? latest : floorS(f.earliest);
  return { kind: 'estimate', earliest, ...(latest ? { latest } : {}), deadlineFirst: f.deadlineFirst, remaining: f.remaining, computedAt: at };
}

/** The annotation's value. */
export function formatForecastAnnotation(p: PublishedForecast): string {
  const computedAt = p.computedAt ? { computedAt: formatDrainStarted(p.computedAt) } : {};
  if (p.kind === 'unknown') return JSON.stringify({ unknown: p.reason, ...computedAt });
  return JSON.stringify({
    earliest: formatDrainStarted(p.earliest),
    ...(p.latest ? { latest: formatDrainStarted(p.latest) } : {}),
    ...(p.deadlineFirst ? { deadlineFirst: true } : {}),
    remaining: p.remaining,
    ...computedAt,
  });
}

/** The annotation read back: nothing when absent, `error` when it is not what formatForecastAnnotation writes. */
export function parseForecastAnnotation(raw: string | undefined): { forecast?: PublishedForecast; error?: string } {
  const parsed = parseJsonObject(raw);
  if (!parsed.object) return parsed.error === undefined ? {} : { error: parsed.error };
  const o = parsed.object;
  const time = (key: string) => {
    const x = o[key];
    return typeof x === 'string' ? parseDrainStarted(x).at : undefined;
  };
  const computedAt = time('computedAt');
  if (!computedAt) return { error: '"computedAt" is not an RFC 3339 time' };
  if ('unknown' in o) {
    if (typeof o.unknown !== 'string') return { error: '"unknown" is not a string' };
    return { forecast: { kind: 'unknown', reason: o.unknown, computedAt } };
  }
  const earliest = time('earliest');
  if (!earliest) return { error: '"earliest" is not an RFC 3339 time' };
  const latest = o.latest === undefined ? undefined : time('latest');
  if (o.latest !== undefined && (!latest || latest.getTime() < earliest.getTime())) return { error: '"latest" is not an RFC 3339 time at or after "earliest"' };
  if (typeof o.remaining !== 'number' || !Number.isSafeInteger(o.remaining) || o.remaining < 0) return { error: '"remaining" is not a non-negative integer' };
  if (o.deadlineFirst !== undefined && typeof o.deadlineFirst !== 'boolean') return { error: '"deadlineFirst" is not a boolean' };
  return { forecast: { kind: 'estimate', earliest, ...(latest ? { latest } : {}), deadlineFirst: o.deadlineFirst === true, remaining: o.remaining, computedAt } };
}

/** formatForecast's text for a published forecast, relative to `now` (the reader's clock). */
export function describePublishedForecast(p: PublishedForecast, now: Date | number): string {
  const f: DrainForecast =
    p.kind === 'unknown'
      ? { kind: 'unknown', reason: p.reason, samples: 0 }
      : { kind: 'estimate', earliest: p.earliest, ...(p.latest ? { latest: p.latest } : {}), method: 'published', deadlineFirst: p.deadlineFirst, remaining: p.remaining };
  return formatForecast(f, now);
}
