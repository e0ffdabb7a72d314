// What the page receives (pure): a status report, the app's Events and the time, turned into the
// JSON the browser renders, with times as ISO strings and durations already worded.
import { COLOR_STATES, COLOR_STATE_MEANINGS, stateLabel, type AppSettings, type ColorState } from '../../domain/color-states.js';
import { drainLeftSeconds, humanDuration } from '../format.js';
import { appKey, type AppStatus, type ColorRow, type ServiceRow, type StatusReport } from '../model.js';
import type { EventView } from './events.js';
import { WINDOW_NAMES, type WindowName } from './samples.js';

/** Bump on an incompatible change of the JSON. */
export const DASHBOARD_API_VERSION = 'rainbow.dev/v1alpha1';

/** A ColorRow as JSON: its times as ISO strings, durations worded, the forecast in words. */
export interface ColorView extends Omit<ColorRow, 'createdAt' | 'drainStartedAt' | 'drainDeadline' | 'forecast'> {
  createdAt?: string;
  /** e.g. `13s`, kubectl's way. */
  age?: string;
  drainStartedAt?: string;
  drainDeadline?: string;
  /** Time left before the max-drain deadline (`47h`, `overdue`), for colors on the way out. */
  drainLeft?: string;
  /** When the color is expected to finish draining, in words (forecast.ts); absent for colors that are not draining. */
  forecast?: string;
  /** The state as shown, when it says more than `state`: `draining (app uninstalled)`. */
  stateLabel?: string;
}

export interface AppView {
  /** `namespace/app` */
  key: string;
  namespace: string;
  app: string;
  settings: AppSettings;
  services: ServiceRow[];
  colors: ColorView[];
  /** Sum over the colors whose count is known; absent when none is. */
  connections?: number;
  warnings: string[];
  events: EventView[];
  /** Why the Events could not be read. */
  eventsError?: string;
}

export interface DashboardSnapshot {
  apiVersion: string;
  kind: 'DashboardSnapshot';
  /** When the cluster was last read (ISO 8601); absent before the first read succeeded. */
  generatedAt?: string;
  /** Sampling period. */
  intervalMs: number;
  /** What is shown: `namespace demo`, `all namespaces`. */
  scope: string;
  /** Why the last read failed and what to do; the apps are then those of the last good read. */
  error?: string;
  states: Array<{ name: ColorState; meaning: string }>;
  windows: WindowName[];
  apps: AppView[];
}

/** One sampled count of a color (all its pods), as drain-forecast.ts reads them. */
export interface CountSample {
  at: number;
  count: number;
}

export interface ForecastInput {
  app: AppStatus;
  color: ColorRow;
  now: Date;
  /** The color's known counts since `from` (ms; default: all kept), oldest first, from the dashboard's samples. */
  samples(from?: number): CountSample[];
}

/** Fills in `ColorView.forecast`; undefined leaves it out. */
export type ForecastFn = (input: ForecastInput) => string | undefined;

export interface SnapshotInput {
  report: StatusReport | undefined;
  /** Per `namespace/app`. */
  events: ReadonlyMap<string, EventView[]>;
  /** Per namespace, or `*` for all: why listing Events failed. */
  eventsErrors?: ReadonlyMap<string, string>;
  intervalMs: number;
  scope: string;
  error?: string;
  forecast?: ForecastFn;
  /** The counts sampled for a color of an app (`namespace/app`), for the forecast. */
  samplesOf?: (app: string, color: string, from?: number) => CountSample[];
}

const iso = (d: Date | undefined) => d?.toISOString();

export function colorView(app: AppStatus, row: ColorRow, now: Date, forecast?: ForecastFn, samples: ForecastInput['samples'] = () => []): ColorView {
  const v: ColorView = {
    color: row.color,
    state: row.state,
    readyReplicas: row.readyReplicas,
    desiredReplicas: row.desiredReplicas,
    available: row.available,
  };
  const label = stateLabel(row.state, app.uninstall?.uninstalled === true);
  if (label !== row.state) v.stateLabel = label;
  if (row.css) v.css = row.css;
  if (row.deployment) v.deployment = row.deployment;
  if (row.shrunkFrom !== undefined) v.shrunkFrom = row.shrunkFrom;
  if (row.connections !== undefined) v.connections = row.connections;
  if (row.connectionsError !== undefined) v.connectionsError = row.connectionsError;
  if (row.createdAt) {
    v.createdAt = iso(row.createdAt)!;
    v.age = humanDuration((now.getTime() - row.createdAt.getTime()) / 1000);
  }
  if (row.drainStartedAt) v.drainStartedAt = iso(row.drainStartedAt)!;
  if (row.drainDeadline) v.drainDeadline = iso(row.drainDeadline)!;
  const left = drainLeftSeconds(row, now);
  if (left !== undefined) v.drainLeft = left <= 0 ? 'overdue' : humanDuration(Math.ceil(left));
  const f = forecast?.({ app, color: row, now, samples });
  if (f) v.forecast = f;
  return v;
}

export function snapshotView(input: SnapshotInput): DashboardSnapshot {
  const report = input.report;
  const now = report?.generatedAt ?? new Date(0);
  const snapshot: DashboardSnapshot = {
    apiVersion: DASHBOARD_API_VERSION,
    kind: 'DashboardSnapshot',
    intervalMs: input.intervalMs,
    scope: input.scope,
    states: COLOR_STATES.map((name) => ({ name, meaning: COLOR_STATE_MEANINGS[name] })),
    windows: [...WINDOW_NAMES],
    apps: (report?.apps ?? []).map((a) => {
      const key = appKey(a.namespace, a.app);
      const colors = a.colors.map((c) => colorView(a, c, now, input.forecast, (from) => input.samplesOf?.(key, c.color, from) ?? []));
      const known = colors.filter((c) => c.connections !== undefined);
      const view: AppView = {
        key,
        namespace: a.namespace,
        app: a.app,
        settings: a.settings,
        services: a.services,
        colors,
        warnings: a.warnings,
        events: input.events.get(key) ?? [],
      };
      if (known.length > 0) view.connections = known.reduce((n, c) => n + c.connections!, 0);
      const eventsError = input.eventsErrors?.get(a.namespace) ?? input.eventsErrors?.get('*');
      if (eventsError) view.eventsError = eventsError;
      return view;
    }),
  };
  if (report) snapshot.generatedAt = report.generatedAt.toISOString();
  if (input.error) snapshot.error = input.error;
  return snapshot;
}
