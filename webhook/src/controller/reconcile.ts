// One reconcile of one app, as named steps on its AppContext: forget the app if its objects are
// gone, run a drain check when asked (and leading), plan with planner.ts, remember what the plan
// says, forecast the draining colors' drains (drain rounds only), then carry out the actions in
// order. Nothing is written unless isLeader() says so, checked right before every action.
import { apiErrorMessage, statusOf } from '../kube/client.js';
import { appOf, deploymentOfColor } from '../domain/availability.js';
import type { AppColors, PlanInput } from '../domain/color-states.js';
import type { Logger } from '../runtime/log.js';
import type { Actuator } from './actuator.js';
import type { AppContext } from './app-context.js';
import type { DrainCheck } from './drain-check.js';
import { firstWarning } from './events.js';
import type { ObjectSource } from './kube-io.js';
import { forgetApp, forgetDrainForecast, recordColors, recordDrainDeadlines, recordDrainForecast, type ControllerMetrics } from './metrics.js';
import { planAppDetailed, planForecasts, type Action } from './planner.js';

export interface ReconcileDeps {
  source: ObjectSource;
  drainCheck: DrainCheck;
  actuator: Actuator;
  now: () => Date;
  isLeader: () => boolean;
  isStopped: () => boolean;
  /** Drops the app's context and its queue entry. */
  forget: (ctx: AppContext) => void;
  /** Reconciles the app again in `delayMs`. */
  retry: (ctx: AppContext, delayMs: number) => void;
  debounceMs: number;
  intervalMs: number;
  log: Logger;
  metrics?: ControllerMetrics;
}

export type Reconcile = (ctx: AppContext, withProbe: boolean) => Promise<void>;

/** When an action that failed is tried again without waiting for a watch event (undefined: at the next drain check or event). */
export function retryDelayAfterFailure(action: Action['type'], code: number | undefined, timing: { debounceMs: number; intervalMs: number }): number | undefined {
  const routing = action === 'promote' || action === 'clear-pending';
  // The Service changed under us: its watch event brings the new version and a reconcile; this is
  // the fallback should that event be missed.
  if (code === 409 && routing) return Math.max(timing.debounceMs, 1000);
  if (routing || action === 'stamp-drain-started' || action === 'restore-replicas') return Math.min(5000, timing.intervalMs || 5000);
  return undefined;
}

export function createReconciler(deps: ReconcileDeps): Reconcile {
  const { source, now, isLeader, log, metrics } = deps;

  /** The planner's input from the caches as they are now: they move while pods are being asked. */
  const readInput = (ctx: AppContext): PlanInput => ({
    app: ctx.app,
    namespace: ctx.namespace,
    services: source.services(ctx.namespace).filter((s) => appOf(s) === ctx.app),
    deployments: source.deployments(ctx.namespace).filter((d) => appOf(d) === ctx.app),
    drain: ctx.observations,
    served: ctx.served,
    now: now(),
  });

  /** Every color the context holds anything of. */
  const colorsHeld = (ctx: AppContext): Set<string> => new Set([...ctx.observations.keys(), ...ctx.series.keys(), ...(ctx.colors?.colors.map((c) => c.color) ?? [])]);

  const forgetIfGone = (ctx: AppContext, input: PlanInput): boolean => {
    if (input.services.length > 0 || input.deployments.length > 0) return false;
    if (metrics) forgetApp(metrics, ctx.namespace, ctx.app, [...colorsHeld(ctx)]);
    deps.forget(ctx);
    return true;
  };

  /** Probes the colors the planner wants asked. */
  const drainCheck = async (ctx: AppContext, input: PlanInput): Promise<void> => {
    const toAsk = planAppDetailed(input)
      .actions.filter((a): a is Extract<Action, { type: 'ask-pods' }> => a.type === 'ask-pods')
      .map((a) => ({ color: a.color, deployment: deploymentOfColor(input.deployments, ctx.app, a.color) }));
    await deps.drainCheck(ctx, toAsk);
  };

  const rememberPlan = (ctx: AppContext, colors: AppColors): void => {
    const held = colorsHeld(ctx);
    ctx.colors = colors;
    // A color that stops serving without the controller's doing (a rollback, a hand edit) is then
    // known to be a previous color, even if it is the newest.
    for (const c of colors.colors) if (c.state === 'serving') ctx.served.add(c.color);
    const stateOf = new Map(colors.colors.map((c) => [c.color, c.state]));
    for (const color of held) {
      const state = stateOf.get(color);
      if (state === undefined) {
        ctx.observations.delete(color);
        metrics?.connections.remove({ namespace: ctx.namespace, app: ctx.app, color });
        metrics?.drainDeadline.remove({ namespace: ctx.namespace, app: ctx.app, color });
      }
      // A drain's series starts when the color leaves service; serving again ends it.
      if (state === undefined || state === 'serving' || state === 'pending' || state === 'new') ctx.series.delete(color);
      if (state !== 'draining' && metrics) forgetDrainForecast(metrics, ctx.namespace, ctx.app, color);
    }
    if (metrics) {
      recordColors(metrics, ctx.namespace, ctx.app, colors.colors.map((c) => c.state));
      recordDrainDeadlines(metrics, ctx.namespace, ctx.app, colors.colors);
    }
  };

  /** In a drain round: each draining color's forecast as metrics, and what to publish of it. */
  const forecastDrains = (ctx: AppContext, input: PlanInput, colors: AppColors): Action[] => {
    const { forecasts, actions } = planForecasts({ colors, deployments: input.deployments, series: ctx.series, now: input.now });
    if (metrics) {
      const forecast = new Map(forecasts.map((f) => [f.color, f.forecast]));
      for (const c of colors.colors) {
        if (c.state !== 'draining') continue;
        const f = forecast.get(c.color);
        if (f) recordDrainForecast(metrics, ctx.namespace, ctx.app, c.color, f, input.now);
        else forgetDrainForecast(metrics, ctx.namespace, ctx.app, c.color);
      }
    }
    return actions;
  };

  const carryOut = async (ctx: AppContext, actions: readonly Action[], colors: AppColors): Promise<void> => {
    for (const action of actions) {
      if (deps.isStopped()) return;
      if (action.type === 'warn') {
        if (firstWarning(ctx.dedupe, action.message)) log.warn({ namespace: ctx.namespace, app: ctx.app }, action.message);
        continue;
      }
      if (action.type === 'ask-pods') continue;
      if (action.type === 'shrink-held') {
        log.debug({ namespace: ctx.namespace, app: ctx.app, color: action.color, from: action.from, to: action.to, reason: action.reason }, 'shrink held; deciding again at the next drain check');
        continue;
      }
      if (!isLeader()) return;
      try {
        await deps.actuator.act(ctx, action, colors);
      } catch (err) {
        metrics?.reconcileErrors.inc();
        const code = statusOf(err);
        log.error({ namespace: ctx.namespace, app: ctx.app, action: action.type, code, err: apiErrorMessage(err) }, 'reconcile step failed; retrying');
        const delay = retryDelayAfterFailure(action.type, code, deps);
        if (delay !== undefined) deps.retry(ctx, delay);
      }
    }
  };

  return async (ctx, withProbe) => {
    const before = readInput(ctx);
    if (forgetIfGone(ctx, before)) return;
    const probed = withProbe && isLeader();
    if (probed) await drainCheck(ctx, before);
    const input = probed ? { ...readInput(ctx), drainRound: true } : before;
    const { actions, colors } = planAppDetailed(input);
    rememberPlan(ctx, colors);
    // After the plan's own actions, so that a shrink's resourceVersion is not moved by the forecast's write.
    await carryOut(ctx, probed ? [...actions, ...forecastDrains(ctx, input, colors)] : actions, colors);
  };
}
