// The app's drain settings as the controller keeps them on each color's Deployment
// (rainbow.dev/drain-settings), so that they outlive the app's Services: one line of JSON,
// `{"keepColors":1,"drainGraceSeconds":60,"maxDrainSeconds":172800,"shrink":true}` (seconds, so
// that nothing is rounded). Pure.
import { ANNOTATION_DRAIN_SETTINGS, ANNOTATION_ON_UNINSTALL, DEFAULTS } from './contract.js';
import { annotationOf, parseJsonObject, type HasMetadata } from './objects.js';

export interface DrainSettings {
  keepColors: number;
  drainGraceSeconds: number;
  maxDrainSeconds: number;
  /** Shrink draining colors (rainbow.dev/shrink); false as soon as one source says "false". */
  shrink: boolean;
}

export function formatDrainSettings(s: DrainSettings): string {
  return JSON.stringify({ keepColors: s.keepColors, drainGraceSeconds: s.drainGraceSeconds, maxDrainSeconds: s.maxDrainSeconds, shrink: s.shrink });
}

const nonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * A Deployment's rainbow.dev/drain-settings: undefined when absent, an error when it is not the
 * JSON above (every field present and of its type).
 */
export function parseDrainSettings(raw: string | undefined): { settings?: DrainSettings; error?: string } {
  const parsed = parseJsonObject(raw);
  if (!parsed.object) return parsed.error === undefined ? {} : { error: parsed.error };
  const o = parsed.object as Partial<Record<keyof DrainSettings, unknown>>;
  if (!nonNegative(o.keepColors) || !Number.isInteger(o.keepColors)) return { error: 'keepColors is not a whole number ≥ 0' };
  if (!nonNegative(o.drainGraceSeconds)) return { error: 'drainGraceSeconds is not a number ≥ 0' };
  if (!nonNegative(o.maxDrainSeconds)) return { error: 'maxDrainSeconds is not a number ≥ 0' };
  if (typeof o.shrink !== 'boolean') return { error: 'shrink is not true or false' };
  return { settings: { keepColors: o.keepColors, drainGraceSeconds: o.drainGraceSeconds, maxDrainSeconds: o.maxDrainSeconds, shrink: o.shrink } };
}

export const DEFAULT_DRAIN_SETTINGS: DrainSettings = {
  keepColors: DEFAULTS.keepColors,
  drainGraceSeconds: DEFAULTS.drainGraceSeconds,
  maxDrainSeconds: DEFAULTS.maxDrainSeconds,
  shrink: DEFAULTS.shrink,
};

/**
 * The settings of an app without a Service, from its colors' Deployments: the most conservative
 * of the readable ones, as with several Services (largest keep-colors, longest drain-grace and
 * max-drain, shrink only if all agree); the defaults when none has any. An unreadable one warns
 * and counts as the defaults.
 */
export function persistedDrainSettings(deployments: readonly HasMetadata[]): { settings: DrainSettings; warnings: string[] } {
  const warnings: string[] = [];
  const all: DrainSettings[] = [];
  for (const d of deployments) {
    const { settings, error } = parseDrainSettings(annotationOf(d, ANNOTATION_DRAIN_SETTINGS));
    if (settings) all.push(settings);
    if (error) {
      warnings.push(`Deployment ${d.metadata?.name}: ignoring ${ANNOTATION_DRAIN_SETTINGS} (${error}); using the defaults for it`);
      all.push(DEFAULT_DRAIN_SETTINGS);
    }
  }
  return { settings: mostConservative(all), warnings };
}

/**
 * Several sources of the app's settings (its Services, or its Deployments' drain-settings): the
 * most conservative value of each — the largest keep-colors, the longest drain-grace and max-drain,
 * shrink only when all agree; the defaults when there is none.
 */
export function mostConservative(all: readonly DrainSettings[]): DrainSettings {
  if (all.length === 0) return { ...DEFAULT_DRAIN_SETTINGS };
  return {
    keepColors: Math.max(...all.map((s) => s.keepColors)),
    drainGraceSeconds: Math.max(...all.map((s) => s.drainGraceSeconds)),
    maxDrainSeconds: Math.max(...all.map((s) => s.maxDrainSeconds)),
    shrink: all.every((s) => s.shrink),
  };
}

/**
 * rainbow.dev/on-uninstall: `keep` keeps the color when its app is uninstalled, `drain` (or no
 * annotation) drains it. Any other value keeps it, with a warning: a deletion cannot be undone.
 */
export function onUninstall(d: HasMetadata | undefined): { keep: boolean; warning?: string } {
  const raw = annotationOf(d, ANNOTATION_ON_UNINSTALL);
  if (raw === undefined) return { keep: false };
  const v = raw.trim().toLowerCase();
  if (v === 'keep') return { keep: true };
  if (v === 'drain') return { keep: false };
  return { keep: true, warning: `Deployment ${d?.metadata?.name}: ${ANNOTATION_ON_UNINSTALL}=${JSON.stringify(raw)} is neither keep nor drain; keeping the color when its app is uninstalled` };
}
