// When a color can serve, and what a Service's rainbow annotations ask for.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import {
  ANNOTATION_CUTOVER,
  ANNOTATION_DRAIN_GRACE,
  ANNOTATION_KEEP_COLORS,
  ANNOTATION_MAX_DRAIN,
  ANNOTATION_SHRINK,
  ANNOTATION_SHRUNK_FROM,
  DEFAULTS,
  LABEL_APP,
  LABEL_COLOR,
  type CutoverMode,
} from './contract.js';
import { formatDuration, tryParseDuration } from './durations.js';
import { annotationOf, isBeingDeleted, labelOf, toDate } from './objects.js';

/** spec.replicas as the API server defaults it. */
export function desiredReplicas(d: V1Deployment): number {
  return d.spec?.replicas ?? 1;
}

/**
 * rainbow.dev/shrunk-from: the replicas a draining color had before the controller shrank it, when
 * that is a whole number above 0 (anything else is ignored).
 */
export function shrunkFrom(d: V1Deployment | null | undefined): number | undefined {
  const raw = annotationOf(d, ANNOTATION_SHRUNK_FROM)?.trim();
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** The Deployment runs fewer replicas than before the controller shrank it (shrunk-from > spec.replicas). */
export function isShrunk(d: V1Deployment | null | undefined): boolean {
  const from = d ? shrunkFrom(d) : undefined;
  return from !== undefined && from > desiredReplicas(d!);
}

/**
 * The rule: the controller has observed the current generation, and updated == available ==
 * spec.replicas > 0. readyReplicas and status.replicas are deliberately not used: they also count
 * pods of old ReplicaSets and terminating pods. A Deployment being deleted is never Available
 * (switching a Service to it would strand the Service). Neither is a color the
 * controller shrank while it drained (rainbow.dev/shrunk-from above spec.replicas): a rollback to
 * it waits until its replicas are back, so it never gets the traffic of the full color on one pod.
 */
export function isDeploymentAvailable(d: V1Deployment | null | undefined): boolean {
  if (!d || isBeingDeleted(d)) return false;
  const want = desiredReplicas(d);
  const st = d.status ?? {};
  return (
    !isShrunk(d) &&
    (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    want > 0 &&
    (st.updatedReplicas ?? 0) === want &&
    (st.availableReplicas ?? 0) === want
  );
}

/**
 * Pods of the color that serve now (availableReplicas), 0 for a Deployment being deleted: a color
 * that lost a pod still serves with the others, and moving its Services away would take them too.
 */
export function servingPods(d: V1Deployment | null | undefined): number {
  return !d || isBeingDeleted(d) ? 0 : Math.max(0, d.status?.availableReplicas ?? 0);
}

/** Why a color cannot serve, as the end of `color x …`; undefined when it is Available. */
export function unavailability(d: V1Deployment | null | undefined): string | undefined {
  if (!d) return 'has no Deployment yet';
  if (isDeploymentAvailable(d)) return undefined;
  if (isBeingDeleted(d)) return `is being deleted (Deployment ${d.metadata?.name})`;
  const want = desiredReplicas(d);
  if (want === 0) return `is scaled to 0 (Deployment ${d.metadata?.name})`;
  if (isShrunk(d)) {
    return `is shrunk to ${want} of its ${shrunkFrom(d)} replicas while it drained (Deployment ${d.metadata?.name}, ${ANNOTATION_SHRUNK_FROM}); rainbow-controller scales it back before it can serve`;
  }
  const st = d.status ?? {};
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
    return `is not Available yet (generation ${d.metadata?.generation} not yet rolled out)`;
  }
  const updated = st.updatedReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const detail = updated !== want ? `${updated}/${want} updated, ${available}/${want} available` : `${available}/${want} ready`;
  return `is not Available yet (${detail})`;
}

export function appOf(obj: { metadata?: V1Deployment['metadata'] } | null | undefined): string | undefined {
  return labelOf(obj, LABEL_APP) || undefined;
}

/** A Deployment's color: its label, else its selector's (the selector always carries it). */
export function colorOfDeployment(d: V1Deployment): string | undefined {
  return (
    labelOf(d, LABEL_COLOR) ||
    d.spec?.selector?.matchLabels?.[LABEL_COLOR] ||
    d.spec?.template?.metadata?.labels?.[LABEL_COLOR] ||
    undefined
  );
}

/** The color a Service routes to. */
export function colorOfService(s: V1Service): string | undefined {
  return s.spec?.selector?.[LABEL_COLOR] || undefined;
}

/** The app's Deployments of `color`; several only if someone broke the one-selector-per-color rule. */
export function deploymentsOfColor(deployments: readonly V1Deployment[], app: string, color: string): V1Deployment[] {
  return deployments.filter((d) => appOf(d) === app && colorOfDeployment(d) === color);
}

/** The best Deployment for a color: an Available one if any, else the newest. */
export function deploymentOfColor(deployments: readonly V1Deployment[], app: string, color: string): V1Deployment | undefined {
  const all = deploymentsOfColor(deployments, app, color);
  return all.find(isDeploymentAvailable) ?? newestFirst(all)[0];
}

export function newestFirst<T extends { metadata?: V1Deployment['metadata'] }>(items: readonly T[]): T[] {
  const time = (x: T) => toDate(x.metadata?.creationTimestamp as Date | string | undefined)?.getTime() ?? 0;
  return [...items].sort((a, b) => time(b) - time(a) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export interface ServiceSettings {
  cutover: CutoverMode;
  keepColors: number;
  drainGraceSeconds: number;
  maxDrainSeconds: number;
  /** Shrink a draining color to the pods that still hold connections (rainbow.dev/shrink). */
  shrink: boolean;
}

/** The Service annotations that carry settings. */
export type SettingAnnotation =
  | typeof ANNOTATION_CUTOVER
  | typeof ANNOTATION_KEEP_COLORS
  | typeof ANNOTATION_DRAIN_GRACE
  | typeof ANNOTATION_MAX_DRAIN
  | typeof ANNOTATION_SHRINK;

export interface SettingsResult {
  settings: ServiceSettings;
  /** By annotation, for each one that could not be used (its default was used instead). */
  warnings: Partial<Record<SettingAnnotation, string>>;
}

/** A Service's rainbow settings with the defaults. Bad values warn, never throw. */
export function readServiceSettings(svc: V1Service): SettingsResult {
  const name = svc.metadata?.name ?? '(unnamed)';
  const warnings: SettingsResult['warnings'] = {};
  const settings: ServiceSettings = {
    cutover: DEFAULTS.cutover,
    keepColors: DEFAULTS.keepColors,
    drainGraceSeconds: DEFAULTS.drainGraceSeconds,
    maxDrainSeconds: DEFAULTS.maxDrainSeconds,
    shrink: DEFAULTS.shrink,
  };
  const ignored = (key: SettingAnnotation, value: string, why: string, used: string) =>
    (warnings[key] = `Service ${name}: ignoring ${key}=${JSON.stringify(value)} (${why}); using ${used}`);

  const cutover = annotationOf(svc, ANNOTATION_CUTOVER);
  if (cutover !== undefined) {
    const v = cutover.trim().toLowerCase();
    if (v === 'ready' || v === 'immediate') settings.cutover = v;
    else ignored(ANNOTATION_CUTOVER, cutover, 'expected ready or immediate', DEFAULTS.cutover);
  }

  const keep = annotationOf(svc, ANNOTATION_KEEP_COLORS);
  if (keep !== undefined) {
    if (/^\s*\d+\s*$/.test(keep)) settings.keepColors = Number(keep);
    else ignored(ANNOTATION_KEEP_COLORS, keep, 'expected a whole number ≥ 0', String(DEFAULTS.keepColors));
  }

  const durations = [
    [ANNOTATION_DRAIN_GRACE, 'drainGraceSeconds'],
    [ANNOTATION_MAX_DRAIN, 'maxDrainSeconds'],
  ] as const;
  for (const [key, field] of durations) {
    const raw = annotationOf(svc, key);
    if (raw === undefined) continue;
    const parsed = tryParseDuration(raw);
    if (parsed.ok) settings[field] = parsed.seconds;
    else ignored(key, raw, parsed.error, formatDuration(DEFAULTS[field]));
  }

  const shrink = annotationOf(svc, ANNOTATION_SHRINK);
  if (shrink !== undefined) {
    const v = shrink.trim().toLowerCase();
    if (v === 'true' || v === 'false') settings.shrink = v === 'true';
    else ignored(ANNOTATION_SHRINK, shrink, 'expected true or false', String(DEFAULTS.shrink));
  }
  return { settings, warnings };
}
