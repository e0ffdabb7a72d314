// Durations in annotations are written the Go way (`60s`, `5m`, `48h`, `1h30m`), because that is
// what Kubernetes users type everywhere else; a bare number means seconds.

export class DurationError extends Error {
  constructor(
    readonly input: string,
    detail: string,
  ) {
    super(`invalid duration ${JSON.stringify(input)}: ${detail} (write it like 60s, 5m, 48h or 1h30m)`);
    this.name = 'DurationError';
  }
}

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in `input`. Negative durations are refused: nothing in rainbow waits a negative time. */
export function parseDuration(input: string): number {
  const s = input.trim();
  if (s === '') throw new DurationError(input, 'it is empty');
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s.startsWith('-')) throw new DurationError(input, 'it is negative');

  const term = /(\d+(?:\.\d*)?|\.\d+)([a-zµμ]*)/giy;
  let seconds = 0;
  let pos = s.startsWith('+') ? 1 : 0;
  if (pos === s.length) throw new DurationError(input, 'it has no number');
  while (pos < s.length) {
    term.lastIndex = pos;
    const m = term.exec(s);
    if (!m) throw new DurationError(input, `unexpected ${JSON.stringify(s.slice(pos))}`);
    const [, amount, unit] = m as unknown as [string, string, string];
    if (unit === '') throw new DurationError(input, `missing unit after ${amount}`);
    const factor = UNIT_SECONDS[unit];
    if (factor === undefined) {
      const hint = unit.toLowerCase() === 'd' ? '; Go durations have no days, use hours (48h)' : '';
      throw new DurationError(input, `unknown unit ${JSON.stringify(unit)}${hint}; use h, m, s or ms`);
    }
    seconds += Number(amount) * factor;
    pos = term.lastIndex;
  }
  if (!Number.isFinite(seconds)) throw new DurationError(input, 'it is too large');
  return seconds;
}

export type DurationResult = { ok: true; seconds: number } | { ok: false; error: string };

export function tryParseDuration(input: string): DurationResult {
  try {
    return { ok: true, seconds: parseDuration(input) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** `5400` → `1h30m`, `90` → `1m30s`, `0` → `0s`; sub-second values keep milliseconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let rest = Math.round(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}
