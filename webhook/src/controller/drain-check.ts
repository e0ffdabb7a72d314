// The drain check of one app: list its pods, ask the colors' pods for their connections and keep
// what they said in the app's observations, from which the planner decides drains and shrinks.
// A color's zeroSince starts at the first probe that reads 0; a gap in probing starts it again (the
// safe direction). A controller without an observation of the color (restarted, or a new leader)
// resumes it from the Deployment's rainbow.dev/zero-since, which the planner has the controller
// write when a draining color's 0-streak starts and remove when it ends: a restart changes no
// deletion. (What it cannot know is a connection that opened and closed entirely while no
// controller ran; the guard counts again at the delete, so nothing open is ever cut.)
// Each complete count is also added to the color's series, which a gap does not reset: the drain
// forecast reads the whole drain.
import type { V1Deployment } from '@kubernetes/client-node';
import { apiErrorMessage } from '../kube/client.js';
import { ANNOTATION_ZERO_SINCE, LABEL_APP } from '../domain/contract.js';
import { nextObservation, parseTimeAnnotation, type DrainObservation, type ProbeResult } from '../domain/color-states.js';
import { annotationOf } from '../domain/objects.js';
import type { ConnectionSample } from '../domain/drain-forecast.js';
import { probeColors, type AskPodsFn } from '../net/probe.js';
import type { Logger } from '../runtime/log.js';
import type { AppContext } from './app-context.js';
import type { ControllerApi } from './kube-io.js';
import type { ControllerMetrics } from './metrics.js';

/** The longest gap between probes that carries zeroSince over, for a drain check period (0: no timer, no limit). */
export function defaultMaxProbeGapMs(intervalMs: number): number {
  return intervalMs > 0 ? Math.max(3 * intervalMs, 30_000) : Infinity;
}

/**
 * A color's observation after a probe at `at`; a previous one older than `maxGapMs` is not carried
 * over (and neither is the persisted zero-since then); with none, `persistedZeroSince` is.
 */
export function observe(prev: DrainObservation | undefined, result: ProbeResult, at: Date, maxGapMs: number, persistedZeroSince?: Date): DrainObservation {
  const gapped = prev?.observedAt && at.getTime() - prev.observedAt.getTime() > maxGapMs;
  if (gapped) return nextObservation(undefined, result, at);
  return nextObservation(prev, result, at, persistedZeroSince);
}

/** Samples kept per color; thinning keeps their span, so days of rounds fit. */
export const MAX_SAMPLES_PER_COLOR = 512;

const msOf = (at: Date | number) => (typeof at === 'number' ? at : at.getTime());

/**
 * `series` with `sample` appended. Past `max` samples the older half is thinned to every other
 * sample, keeping the first (the span) and the highest count (where the forecast's drain begins).
 */
export function appendSample(series: readonly ConnectionSample[], sample: ConnectionSample, max = MAX_SAMPLES_PER_COLOR): ConnectionSample[] {
  const t = msOf(sample.at);
  // A clock that went back drops the samples it contradicts, so the series stays in time order.
  let out = [...series.filter((s) => msOf(s.at) < t), sample];
  while (out.length > Math.max(max, 1)) {
    const half = Math.floor(out.length / 2);
    const peak = out.reduce((best, s, i) => (s.count > out[best]!.count ? i : best), 0);
    const thinned = out.filter((_, i) => i === 0 || i === peak || i >= half || i % 2 === 0);
    if (thinned.length === out.length) break;
    out = thinned;
  }
  return out;
}

export interface DrainCheckDeps {
  api: Pick<ControllerApi, 'listPods'>;
  ask: AskPodsFn;
  now: () => Date;
  podTimeoutMs: number;
  concurrency: number;
  maxGapMs: number;
  log: Logger;
  metrics?: ControllerMetrics;
}

export type DrainCheck = (ctx: AppContext, colors: Array<{ color: string; deployment?: V1Deployment }>) => Promise<void>;

export function createDrainCheck(deps: DrainCheckDeps): DrainCheck {
  const { api, ask, now, log, metrics } = deps;
  return async (ctx, colors) => {
    if (colors.length === 0) return;
    let results: Awaited<ReturnType<typeof probeColors>>;
    try {
      const pods = await api.listPods(ctx.namespace, `${LABEL_APP}=${ctx.app}`);
      results = await probeColors(pods, colors, ask, { timeoutMs: deps.podTimeoutMs, concurrency: deps.concurrency });
    } catch (err) {
      metrics?.reconcileErrors.inc();
      const why = `cannot list pods: ${apiErrorMessage(err)}`;
      log.warn({ namespace: ctx.namespace, app: ctx.app, err: why }, 'drain check failed');
      results = new Map(colors.map((c) => [c.color, { count: 0, unknown: why, errors: [why], perPod: {}, failed: {} }]));
    }
    const at = now();
    const labels = (color: string) => ({ namespace: ctx.namespace, app: ctx.app, color });
    const persisted = new Map(colors.map((c) => [c.color, parseTimeAnnotation(annotationOf(c.deployment, ANNOTATION_ZERO_SINCE))]));
    for (const [color, r] of results) {
      ctx.observations.set(color, observe(ctx.observations.get(color), r, at, deps.maxGapMs, persisted.get(color)));
      if (r.unknown === undefined) ctx.series.set(color, appendSample(ctx.series.get(color) ?? [], { at: at.getTime(), count: r.count }));
      if (r.unknown === undefined) metrics?.connections.set(labels(color), r.count);
      else metrics?.connections.remove(labels(color));
      if (r.unknown !== undefined) log.debug({ namespace: ctx.namespace, app: ctx.app, color, unknown: r.unknown }, 'connections unknown');
    }
  };
}
