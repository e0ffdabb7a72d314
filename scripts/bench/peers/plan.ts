// The peers benchmark's plan, the same for every strategy: how long each long-lived stream is
// held after the release (seeded lognormal lifetimes, long-tailed and capped), and the steady
// rate of short connections. Pure: no cluster, no clock.
import { mulberry32 } from '../seeded-random.js';

export interface LifetimeOptions {
  /** Streams held by clients. */
  count: number;
  /** Median lifetime after the release, seconds. */
  medianS: number;
  /** σ of the lifetime's logarithm. */
  sigma: number;
  /** No stream is planned longer than this, seconds. */
  capS: number;
  seed: number;
}

export const DEFAULT_LIFETIMES: LifetimeOptions = { count: 200, medianS: 18, sigma: 1, capS: 120, seed: 20261202 };

/**
 * Stream i is closed by its client lifetimesMs[i] after the release: lognormal (median
 * `medianS`, σ `sigma`) drawn from a seeded generator (Box–Muller), capped at `capS`, whole
 * milliseconds. The same options give the same plan on every run.
 */
export function planLifetimesMs(o: LifetimeOptions): number[] {
  if (!(o.count >= 0 && o.medianS > 0 && o.sigma >= 0 && o.capS > 0)) throw new Error(`bad lifetime plan ${JSON.stringify(o)}`);
  const rand = mulberry32(o.seed);
  const out: number[] = [];
  while (out.length < o.count) {
    const u = Math.max(rand(), Number.EPSILON);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    for (const z of [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)]) {
      if (out.length < o.count) out.push(Math.round(Math.min(o.capS, o.medianS * Math.exp(o.sigma * z)) * 1000));
    }
  }
  return out;
}

export interface PlanSummary {
  count: number;
  distribution: string;
  seed: number;
  p50S: number;
  p90S: number;
  maxS: number;
  /** Streams planned to outlive 30 s (the default terminationGracePeriodSeconds, and Argo's scaleDownDelaySeconds). */
  over30s: number;
  /** Streams planned to outlive 60 s (scale-down delay plus grace period). */
  over60s: number;
  atCap: number;
}

export function summarisePlan(lifetimesMs: readonly number[], o: LifetimeOptions): PlanSummary {
  const s = [...lifetimesMs].sort((a, b) => a - b);
  const q = (p: number) => (s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! / 100) / 10);
  return {
    count: s.length,
    distribution: `lognormal, median ${o.medianS} s, sigma ${o.sigma}, capped at ${o.capS} s, from the release`,
    seed: o.seed,
    p50S: q(0.5),
    p90S: q(0.9),
    maxS: q(1),
    over30s: s.filter((ms) => ms > 30_000).length,
    over60s: s.filter((ms) => ms > 60_000).length,
    atCap: s.filter((ms) => ms >= o.capS * 1000).length,
  };
}

/** Short connections: one every 1000/ratePerS ms, alternating an HTTP GET on :8080 and a TCP connect + first line on :8081. */
export interface ProbePlan {
  ratePerS: number;
  timeoutMs: number;
}

export const DEFAULT_PROBES: ProbePlan = { ratePerS: 20, timeoutMs: 3000 };

/** The kind of short connection number `n` (0, 1, 2, …) is. */
export function probeKind(n: number): 'http' | 'tcp' {
  return n % 2 === 0 ? 'http' : 'tcp';
}
