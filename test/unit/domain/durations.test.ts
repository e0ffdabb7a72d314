import { DurationError, formatDuration, parseDuration, tryParseDuration } from '../../../webhook/src/domain/durations.js';

describe('parseDuration', () => {
  it.each([
    ['60s', 60],
    ['5m', 300],
    ['48h', 172800],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['90', 90],
    ['0', 0],
    ['0s', 0],
    ['1.5h', 5400],
    ['.5m', 30],
    ['1500ms', 1.5],
    ['+10s', 10],
    [' 2m ', 120],
  ])('%j is %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each([
    ['', 'invalid duration "": it is empty (write it like 60s, 5m, 48h or 1h30m)'],
    ['2d', 'invalid duration "2d": unknown unit "d"; Go durations have no days, use hours (48h); use h, m, s or ms (write it like 60s, 5m, 48h or 1h30m)'],
    ['5 minutes', 'invalid duration "5 minutes": missing unit after 5 (write it like 60s, 5m, 48h or 1h30m)'],
    ['1h 30m', 'invalid duration "1h 30m": unexpected " 30m" (write it like 60s, 5m, 48h or 1h30m)'],
    ['1h30', 'invalid duration "1h30": missing unit after 30 (write it like 60s, 5m, 48h or 1h30m)'],
    ['-5m', 'invalid duration "-5m": it is negative (write it like 60s, 5m, 48h or 1h30m)'],
    ['h', 'invalid duration "h": unexpected "h" (write it like 60s, 5m, 48h or 1h30m)'],
    ['5M', 'invalid duration "5M": unknown unit "M"; use h, m, s or ms (write it like 60s, 5m, 48h or 1h30m)'],
    ['+', 'invalid duration "+": it has no number (write it like 60s, 5m, 48h or 1h30m)'],
  ])('refuses %j', (input, message) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('has a non-throwing form', () => {
    expect(tryParseDuration('5m')).toEqual({ ok: true, seconds: 300 });
    expect(tryParseDuration('soon')).toEqual({
      ok: false,
      error: 'invalid duration "soon": unexpected "soon" (write it like 60s, 5m, 48h or 1h30m)',
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [60, '1m'],
    [90, '1m30s'],
    [5400, '1h30m'],
    [172800, '48h'],
    [176461, '49h1m1s'],
    [0.25, '250ms'],
    [59.6, '1m'],
  ])('%d seconds is %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips what it prints', () => {
    for (const s of [1, 61, 3599, 3600, 5400, 172800]) expect(parseDuration(formatDuration(s))).toBe(s);
  });
});
