// The soak's plan, drawn from one seed (pure): when each release happens, when each long-lived
// stream opens and how long its client keeps it, and when the chaos loop strikes what. The same
// seed and options give the same plan, so a failing soak can be run again as it was.
import { mulberry32 } from '../bench/seeded-random.js';

/** What the chaos loop can break. */
export const FAULT_KINDS = ['webhook-pod', 'controller-leader', 'kube-apiserver', 'reporter', 'node-simulator'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults that act only on the soak's own objects (its rainbow-system release, its app's pods):
 * they cannot disturb anything else running in the same cluster. kube-apiserver and the node
 * simulator are the cluster's own.
 */
export const SCOPED_FAULTS: readonly FaultKind[] = ['webhook-pod', 'controller-leader', 'reporter'];

export interface PlanOptions {
  seed: number;
  /** Releases after the first install: each a new color through `helm upgrade`. */
  releases: number;
  /** Length of the run: releases, streams and faults all fall inside it. */
  minutes: number;
  /** Long-lived streams opened over the run. */
  streams: number;
  /** Lognormal lifetimes: median and σ of the logarithm; capped so that every stream ends inside the run. */
  lifetime: { medianS: number; sigma: number; minS: number; capS: number };
  /** Faults the chaos loop may use, and how many it strikes in all (at least one of each kind when there is room). */
  faults: readonly FaultKind[];
  faultCount: number;
  /** Faults are at least this far apart, so that each one's window can be told from the next. */
  minFaultGapS: number;
}

export interface PlannedRelease {
  /** 1-based; release 0 is the first install. */
  n: number;
  color: string;
  atMs: number;
}

export interface PlannedStream {
  i: number;
  openAtMs: number;
  /** From the first line received to the client's close. */
  lifetimeMs: number;
}

export interface PlannedFault {
  i: number;
  kind: FaultKind;
  atMs: number;
  /** A number in [0, 1) that picks the target among the candidates found at that moment (sorted by name). */
  pick: number;
  /** For restarts: how long the daemon stays down. */
  downMs: number;
}

export interface Plan {
  seed: number;
  durationMs: number;
  /** Color of the first install. */
  firstColor: string;
  releases: PlannedRelease[];
  streams: PlannedStream[];
  faults: PlannedFault[];
}

export const DEFAULT_LIFETIME = { medianS: 25, sigma: 1.3, minS: 6, capS: 600 };

/** Faults for a run of `minutes`: one every ~50 s, at least one of each kind. */
export function defaultFaultCount(minutes: number, kinds: number): number {
  return Math.max(kinds, Math.round((minutes * 60) / 50));
}

function lognormal(rand: () => number, median: number, sigma: number): number {
  const u = Math.max(rand(), Number.EPSILON);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return median * Math.exp(sigma * z);
}

function shuffle<T>(rand: () => number, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Distinct 6-hex-digit colors, none of them equal to another. */
function colors(rand: () => number, n: number): string[] {
  const out = new Set<string>();
  while (out.size < n) out.add(Math.floor(rand() * 0x1000000).toString(16).padStart(6, '0'));
  return [...out];
}

export function makePlan(o: PlanOptions): Plan {
  if (!(o.releases >= 1) || !(o.minutes > 0) || !(o.streams >= 0) || !(o.lifetime.medianS > 0) || o.lifetime.minS > o.lifetime.capS) {
    throw new Error(`bad soak plan: ${JSON.stringify({ releases: o.releases, minutes: o.minutes, streams: o.streams, lifetime: o.lifetime })}`);
  }
  const durationMs = Math.round(o.minutes * 60_000);
  // Separate generators per part: changing the number of streams does not move the releases or faults.
  const randColors = mulberry32(o.seed);
  const randReleases = mulberry32(o.seed + 1);
  const randStreams = mulberry32(o.seed + 2);
  const randFaults = mulberry32(o.seed + 3);

  const [firstColor, ...next] = colors(randColors, o.releases + 1);
  // Releases spread evenly over the run, each moved by up to a quarter of its slot; the last one
  // leaves a slot at the end for the colors to drain.
  const slot = durationMs / (o.releases + 1);
  const releases = next.map((color, k) => ({
    n: k + 1,
    color,
    atMs: Math.round((k + 0.5) * slot + (randReleases() - 0.5) * 0.5 * slot),
  }));

  // Streams open over the first 85% of the run; each one's client closes it before the run ends.
  const lastOpen = durationMs * 0.85;
  const streams: PlannedStream[] = [];
  for (let i = 0; i < o.streams; i++) {
    const openAtMs = Math.round(randStreams() * lastOpen);
    const room = Math.max(o.lifetime.minS * 1000, durationMs - openAtMs - 15_000);
    const raw = lognormal(randStreams, o.lifetime.medianS, o.lifetime.sigma) * 1000;
    const lifetimeMs = Math.round(Math.min(room, o.lifetime.capS * 1000, Math.max(o.lifetime.minS * 1000, raw)));
    streams.push({ i, openAtMs, lifetimeMs });
  }
  streams.sort((a, b) => a.openAtMs - b.openAtMs || a.i - b.i);

  // Faults: kinds dealt round-robin from a shuffled deck (every kind comes up), at random
  // moments between 5% and 90% of the run, then pushed apart to the minimum gap.
  const faults: PlannedFault[] = [];
  if (o.faults.length > 0 && o.faultCount > 0) {
    const gap = o.minFaultGapS * 1000;
    const from = durationMs * 0.05;
    const to = durationMs * 0.9;
    const count = Math.min(o.faultCount, Math.max(1, Math.floor((to - from) / gap) + 1));
    const times = Array.from({ length: count }, () => from + randFaults() * (to - from)).sort((a, b) => a - b);
    // Keep the gap: push later ones forward, then, if the last overran, pull them back from the end.
    for (let k = 1; k < times.length; k++) times[k] = Math.max(times[k]!, times[k - 1]! + gap);
    if (times.length > 0 && times[times.length - 1]! > to) {
      times[times.length - 1] = to;
      for (let k = times.length - 2; k >= 0; k--) times[k] = Math.min(times[k]!, times[k + 1]! - gap);
    }
    let deck: FaultKind[] = [];
    for (let k = 0; k < count; k++) {
      if (deck.length === 0) deck = shuffle(randFaults, [...o.faults]);
      const kind = deck.pop()!;
      faults.push({ i: k, kind, atMs: Math.round(times[k]!), pick: randFaults(), downMs: 1000 + Math.round(randFaults() * 4000) });
    }
  }
  return { seed: o.seed, durationMs, firstColor: firstColor!, releases, streams, faults };
}

export function summarisePlan(p: Plan) {
  const lt = p.streams.map((s) => s.lifetimeMs / 1000).sort((a, b) => a - b);
  const q = (x: number) => (lt.length ? Math.round(lt[Math.min(lt.length - 1, Math.ceil(x * lt.length) - 1)]! * 10) / 10 : 0);
  const byKind: Record<string, number> = {};
  for (const f of p.faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    seed: p.seed,
    durationS: p.durationMs / 1000,
    releases: p.releases.length,
    streams: p.streams.length,
    lifetimeS: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
    faults: byKind,
  };
}
