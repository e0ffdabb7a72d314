// rainbow.dev/drain-forecast: what the controller writes, read back by `rainbow status`.
import type { DrainForecast } from '../../../webhook/src/domain/drain-forecast.js';
import {
  describePublishedForecast,
  formatForecastAnnotation,
  parseForecastAnnotation,
  publishForecast,
  type PublishedForecast,
} from '../../../webhook/src/domain/forecast-annotation.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
const H = 3600;

const estimate = (o: Partial<Extract<DrainForecast, { kind: 'estimate' }>> = {}): DrainForecast => ({
  kind: 'estimate',
  earliest: at(2 * H + 0.4),
  latest: at(5 * H + 0.2),
  likely: at(3 * H),
  method: 'steady hazard',
  deadlineFirst: false,
  remaining: 412,
  ...o,
});

describe('publishForecast', () => {
  it('keeps the bounds in whole seconds (earliest down, latest up) and drops what a reader does not need', () => {
    expect(publishForecast(estimate(), at(0.7))).toEqual({ kind: 'estimate', earliest: at(2 * H), latest: at(5 * H + 1), deadlineFirst: false, remaining: 412, computedAt: at(0) });
  });

  it('an open range has no latest; a range that is the deadline stays one instant', () => {
    const { latest: _latest, likely: _likely, ...open } = estimate() as Extract<DrainForecast, { kind: 'estimate' }>;
    expect(publishForecast(open, at(0))).toEqual({ kind: 'estimate', earliest: at(2 * H), deadlineFirst: false, remaining: 412, computedAt: at(0) });
    const point = publishForecast(estimate({ earliest: at(4 * H + 0.5), latest: at(4 * H + 0.5), deadlineFirst: true }), at(0));
    expect(point).toMatchObject({ earliest: at(4 * H + 1), latest: at(4 * H + 1), deadlineFirst: true });
  });

  it('publishes an unknown with its reason, and nothing for a drained color', () => {
    expect(publishForecast({ kind: 'unknown', reason: '3 samples', samples: 3 }, at(0))).toEqual({ kind: 'unknown', reason: '3 samples', computedAt: at(0) });
    expect(publishForecast({ kind: 'drained', since: at(0) }, at(0))).toBeUndefined();
  });
});

describe('the annotation', () => {
  const closed: PublishedForecast = { kind: 'estimate', earliest: at(2 * H), latest: at(5 * H), deadlineFirst: false, remaining: 412, computedAt: at(0) };
  const byDeadline: PublishedForecast = { kind: 'estimate', earliest: at(2 * H), latest: at(4 * H), deadlineFirst: true, remaining: 3, computedAt: at(0) };
  const open: PublishedForecast = { kind: 'estimate', earliest: at(2 * H), deadlineFirst: false, remaining: 7, computedAt: at(0) };
  const unknown: PublishedForecast = { kind: 'unknown', reason: '3 samples', computedAt: at(0) };

  it('is small JSON with RFC 3339 times', () => {
    expect(formatForecastAnnotation(closed)).toBe('{"earliest":"2026-12-01T12:00:00Z","latest":"2026-12-01T15:00:00Z","remaining":412,"computedAt":"2026-12-01T10:00:00Z"}');
    expect(formatForecastAnnotation(byDeadline)).toBe('{"earliest":"2026-12-01T12:00:00Z","latest":"2026-12-01T14:00:00Z","deadlineFirst":true,"remaining":3,"computedAt":"2026-12-01T10:00:00Z"}');
    expect(formatForecastAnnotation(open)).toBe('{"earliest":"2026-12-01T12:00:00Z","remaining":7,"computedAt":"2026-12-01T10:00:00Z"}');
    expect(formatForecastAnnotation(unknown)).toBe('{"unknown":"3 samples","computedAt":"2026-12-01T10:00:00Z"}');
  });

  it.each([
    ['closed', closed],
    ['deadline first', byDeadline],
    ['open', open],
    ['unknown', unknown],
  ])('reads back what it wrote: %s', (_name, p) => {
    expect(parseForecastAnnotation(formatForecastAnnotation(p))).toEqual({ forecast: p });
  });

  it('absent is nothing; anything else it did not write is an error, never a throw', () => {
    expect(parseForecastAnnotation(undefined)).toEqual({});
    expect(parseForecastAnnotation('in 2h')).toEqual({ error: 'not JSON' });
    expect(parseForecastAnnotation('[1]')).toEqual({ error: 'not a JSON object' });
    expect(parseForecastAnnotation('null')).toEqual({ error: 'not a JSON object' });
    expect(parseForecastAnnotation('{"unknown":"x"}')).toEqual({ error: '"computedAt" is not an RFC 3339 time' });
    expect(parseForecastAnnotation('{"unknown":3,"computedAt":"2026-12-01T10:00:00Z"}')).toEqual({ error: '"unknown" is not a string' });
    expect(parseForecastAnnotation('{"earliest":"tomorrow","remaining":1,"computedAt":"2026-12-01T10:00:00Z"}')).toEqual({ error: '"earliest" is not an RFC 3339 time' });
    expect(parseForecastAnnotation('{"earliest":"2026-12-01T12:00:00Z","latest":"2026-12-01T11:00:00Z","remaining":1,"computedAt":"2026-12-01T10:00:00Z"}')).toEqual({
      error: '"latest" is not an RFC 3339 time at or after "earliest"',
    });
    expect(parseForecastAnnotation('{"earliest":"2026-12-01T12:00:00Z","remaining":-1,"computedAt":"2026-12-01T10:00:00Z"}')).toEqual({ error: '"remaining" is not a non-negative integer' });
    expect(parseForecastAnnotation('{"earliest":"2026-12-01T12:00:00Z","remaining":1,"deadlineFirst":"yes","computedAt":"2026-12-01T10:00:00Z"}')).toEqual({ error: '"deadlineFirst" is not a boolean' });
  });

  it('is described relative to the reader\'s clock, from its absolute bounds', () => {
    expect(describePublishedForecast(closed, at(0))).toBe('in 2h–5h');
    expect(describePublishedForecast(closed, at(H))).toBe('in 1h–4h');
    expect(describePublishedForecast(closed, at(3 * H))).toBe('in 0s–2h');
    expect(describePublishedForecast(byDeadline, at(0))).toBe('in 2h–4h (max-drain)');
    expect(describePublishedForecast({ ...byDeadline, earliest: at(4 * H) }, at(0))).toBe('by max-drain (in 4h)');
    expect(describePublishedForecast(open, at(0))).toBe('in 2h or later');
    expect(describePublishedForecast(unknown, at(H))).toBe('unknown (3 samples)');
  });
});
