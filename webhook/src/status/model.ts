// What `rainbow status` shows, computed from what it read (pure): the controller planner's
// states, with one probe's connection counts in place of the controller's history.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ANNOTATION_DRAIN_FORECAST, ANNOTATION_PENDING_COLOR, cssColor } from '../domain/contract.js';
import { colorStates, type AppSettings, type ColorState, type DrainObservation, type ProbeResult, type UninstallState } from '../domain/color-states.js';
import { appOf, colorOfService, deploymentOfColor } from '../domain/availability.js';
import { parseForecastAnnotation, type PublishedForecast } from '../domain/forecast-annotation.js';
import { annotationOf } from '../domain/objects.js';

export interface ServiceRow {
  name: string;
  color?: string;
  pendingColor?: string;
}

export interface ColorRow {
  color: string;
  /** `#rrggbb` when the color starts with 6 hex digits. */
  css?: string;
  state: ColorState;
  deployment?: string;
  readyReplicas: number;
  desiredReplicas: number;
  /** The replicas before the controller shrank this draining color (rainbow.dev/shrunk-from), while it runs fewer. */
  shrunkFrom?: number;
  available: boolean;
  /** Established connections; undefined when not asked (no Deployment) or unknown. */
  connections?: number;
  /** Why connections are unknown. */
  connectionsError?: string;
  createdAt?: Date;
  drainStartedAt?: Date;
  /** drain-started + max-drain, for colors that are on the way out (not kept). */
  drainDeadline?: Date;
  /** A draining color's drain forecast as the controller published it (rainbow.dev/drain-forecast); unknown when unreadable. */
  forecast?: PublishedForecast;
}

export interface AppStatus {
  namespace: string;
  app: string;
  settings: AppSettings;
  services: ServiceRow[];
  colors: ColorRow[];
  warnings: string[];
  /** The app served once and has no Service now: when that was seen, and when (or since when) it counts as uninstalled. */
  uninstall?: UninstallState;
}

export interface StatusReport {
  generatedAt: Date;
  apps: AppStatus[];
}

export interface StatusInput {
  services: readonly V1Service[];
  deployments: readonly V1Deployment[];
  /** Per `namespace/app`, per color: one probe's result. */
  probes: ReadonlyMap<string, ReadonlyMap<string, ProbeResult>>;
  now: Date;
  /** Only this app (all when undefined). */
  app?: string;
}

export const appKey = (namespace: string, app: string) => `${namespace}/${app}`;

/** The apps found among the objects, sorted by namespace then name. */
export function appsOf(objects: ReadonlyArray<V1Service | V1Deployment>, only?: string): Array<{ namespace: string; app: string }> {
  const seen = new Map<string, { namespace: string; app: string }>();
  for (const o of objects) {
    const app = appOf(o);
    const namespace = o.metadata?.namespace ?? '';
    if (app && (!only || app === only)) seen.set(appKey(namespace, app), { namespace, app });
  }
  return [...seen.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.app.localeCompare(b.app));
}

export function buildStatus(input: StatusInput): StatusReport {
  const apps: AppStatus[] = [];
  for (const { namespace, app } of appsOf([...input.services, ...input.deployments], input.app)) {
    const inApp = <T extends V1Service | V1Deployment>(list: readonly T[]) => list.filter((o) => o.metadata?.namespace === namespace && appOf(o) === app);
    const services = inApp(input.services);
    const deployments = inApp(input.deployments);
    const probes = input.probes.get(appKey(namespace, app)) ?? new Map<string, ProbeResult>();
    const drain = new Map<string, DrainObservation>();
    for (const [color, p] of probes) {
      drain.set(color, p.unknown !== undefined ? { lastCount: p.count, unknown: p.unknown } : { lastCount: p.count });
    }
    const states = colorStates({ app, namespace, services, deployments, drain, now: input.now });
    const warnings = [...states.warnings];
    /** The published forecast of a draining color; an unreadable one is shown as unknown, with a warning. */
    const forecastOf = (color: string): PublishedForecast | undefined => {
      const d = deploymentOfColor(deployments, app, color);
      const { forecast, error } = parseForecastAnnotation(annotationOf(d, ANNOTATION_DRAIN_FORECAST));
      if (error === undefined) return forecast;
      warnings.push(`Deployment ${d?.metadata?.name}: ${ANNOTATION_DRAIN_FORECAST} is not readable (${error}); its forecast is shown as unknown`);
      return { kind: 'unknown', reason: 'unreadable annotation' };
    };
    apps.push({
      namespace,
      app,
      ...(states.uninstall ? { uninstall: states.uninstall } : {}),
      settings: states.settings,
      services: services
        .map((s) => {
          const row: ServiceRow = { name: s.metadata?.name ?? '(unnamed)' };
          const color = colorOfService(s);
          const pending = annotationOf(s, ANNOTATION_PENDING_COLOR)?.trim();
          if (color) row.color = color;
          if (pending) row.pendingColor = pending;
          return row;
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
      colors: states.colors.map((c) => {
        const row: ColorRow = {
          color: c.color,
          state: c.state,
          readyReplicas: c.readyReplicas,
          desiredReplicas: c.desiredReplicas,
          available: c.available,
        };
        const css = cssColor(c.color);
        if (css) row.css = css;
        if (c.deployment) row.deployment = c.deployment.name;
        if (c.shrunkFrom !== undefined) row.shrunkFrom = c.shrunkFrom;
        const p = probes.get(c.color);
        if (p && p.unknown === undefined) row.connections = p.count;
        if (p?.unknown !== undefined) row.connectionsError = p.unknown;
        if (c.createdAt) row.createdAt = c.createdAt;
        if (c.drainStartedAt) row.drainStartedAt = c.drainStartedAt;
        if (c.drainDeadline) row.drainDeadline = c.drainDeadline;
        const forecast = c.state === 'draining' ? forecastOf(c.color) : undefined;
        if (forecast) row.forecast = forecast;
        return row;
      }),
      warnings,
    });
  }
  return { generatedAt: input.now, apps };
}
