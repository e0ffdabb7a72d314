// The scale benchmark's figures, side by side: each run's headline numbers, how they grow from the
// smallest scale to the largest, what the pods that are not rainbow's add, and the goals. Pure.

export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  /** The goal, when the figure has one: met while the value is below it. */
  below?: number;
}

export const FIGURES: readonly FigureSpec[] = [
  { key: 'webhookRssMiB', label: 'webhook RSS after the review load', unit: 'MiB', below: 200 },
  { key: 'webhookHeapUsedMiB', label: 'webhook V8 heap used', unit: 'MiB' },
  { key: 'reviewP99CachedMs', label: 'review p99, decided from the caches', unit: 'ms', below: 5 },
  { key: 'reviewP99AllMs', label: 'review p99, whole mix (incl. reporter answers)', unit: 'ms' },
  { key: 'controllerRssMiB', label: 'controller RSS after its drain rounds', unit: 'MiB', below: 200 },
  { key: 'controllerPeakRssMiB', label: 'controller peak RSS (VmHWM)', unit: 'MiB', below: 200 },
  { key: 'controllerHeapUsedMiB', label: 'controller V8 heap used', unit: 'MiB' },
  { key: 'drainRoundCpuMs', label: 'controller CPU per drain round', unit: 'ms' },
  { key: 'resyncCpuMs', label: 'controller CPU per full resync (relist + first round)', unit: 'ms' },
  { key: 'promotionP99Ms', label: 'promotion p99', unit: 'ms', below: 1000 },
];

export interface RunFigures {
  /** e.g. "100 apps" or "1000 apps + 10000 foreign pods". */
  name: string;
  apps: number;
  foreignPods: number;
  figures: Record<string, number | undefined>;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** larger / smaller for every figure both runs have (undefined where either lacks it or the smaller is 0). */
export function growth(smaller: RunFigures, larger: RunFigures): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const f of FIGURES) {
    const a = smaller.figures[f.key];
    const b = larger.figures[f.key];
    out[f.key] = a === undefined || b === undefined || a === 0 ? undefined : round(b / a, 2);
  }
  return out;
}

/** What `withForeign` adds to `without`, in percent of `without`, per figure. */
export function foreignOverheadPct(without: RunFigures, withForeign: RunFigures): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const f of FIGURES) {
    const a = without.figures[f.key];
    const b = withForeign.figures[f.key];
    out[f.key] = a === undefined || b === undefined || a === 0 ? undefined : round(((b - a) / a) * 100, 1);
  }
  return out;
}

export interface GoalCheck {
  figure: string;
  run: string;
  value: number;
  goal: string;
  met: boolean;
}

/** Every figure with a goal, in every run that has it. Reported, never asserted. */
export function checkGoals(runs: readonly RunFigures[]): GoalCheck[] {
  const out: GoalCheck[] = [];
  for (const r of runs) {
    for (const f of FIGURES) {
      const v = r.figures[f.key];
      if (f.below === undefined || v === undefined) continue;
      out.push({ figure: f.key, run: r.name, value: v, goal: `< ${f.below} ${f.unit}`, met: v < f.below });
    }
  }
  return out;
}

/** The foreign-pod goal: each overhead below `maxPct` (a figure that went down counts as met). */
export function checkForeignGoal(overheads: Record<string, number | undefined>, maxPct = 5): { met: boolean; over: string[] } {
  const over = Object.entries(overheads)
    .filter(([, v]) => v !== undefined && v >= maxPct)
    .map(([k, v]) => `${k} +${v}%`);
  return { met: over.length === 0, over };
}

const cell = (v: number | undefined) => (v === undefined ? '–' : String(v));

/** A plain-text table: one row per figure, one column per run. */
export function formatTable(runs: readonly RunFigures[]): string[] {
  const header = ['figure', ...runs.map((r) => r.name)];
  const rows = FIGURES.map((f) => [`${f.label} (${f.unit})`, ...runs.map((r) => cell(r.figures[f.key]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** "webhookRssMiB ×1.8, …" for the figures of a growth or overhead record. */
export function formatRatios(r: Record<string, number | undefined>, suffix: (v: number) => string): string {
  return FIGURES.filter((f) => r[f.key] !== undefined)
    .map((f) => `${f.key} ${suffix(r[f.key]!)}`)
    .join(', ');
}
