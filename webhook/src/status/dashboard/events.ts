// Which Kubernetes Events the dashboard shows for an app (pure): the rainbow controller's, about
// the app's Services and its colors' Deployments (deleted ones included), newest first.
import type { CoreV1Event } from '@kubernetes/client-node';
import { CONTROLLER_EVENT_COMPONENT, deploymentName } from '../../domain/contract.js';
import { toDate } from '../../domain/objects.js';

/** The component the rainbow controller reports its Events as (reportingComponent and source.component). */
export const RAINBOW_EVENT_COMPONENT = CONTROLLER_EVENT_COMPONENT;

/** How many Events the page lists per app. */
export const EVENTS_PER_APP = 10;

export interface EventView {
  /** When it last happened (ISO 8601). */
  at: string;
  type: string;
  reason: string;
  kind: string;
  object: string;
  message: string;
  count: number;
}

/** What the selection knows of one app. */
export interface AppObjects {
  namespace: string;
  app: string;
  services: readonly string[];
  /** Deployment names of its colors, those seen earlier and since deleted included. */
  deployments: readonly string[];
  /** Its colors (listed now or seen earlier): `<app>-<color>` is a Deployment of the app. */
  colors: readonly string[];
}

export function isRainbowEvent(e: CoreV1Event): boolean {
  return e.reportingComponent === RAINBOW_EVENT_COMPONENT || e.source?.component === RAINBOW_EVENT_COMPONENT;
}

/** The latest time an Event carries: series last-observed, lastTimestamp, eventTime, firstTimestamp, then creation. */
export function eventTime(e: CoreV1Event): Date | undefined {
  const candidates = [e.series?.lastObservedTime, e.lastTimestamp, e.eventTime, e.firstTimestamp, e.metadata?.creationTimestamp];
  for (const c of candidates) {
    const d = toDate(c as Date | string | undefined);
    if (d) return d;
  }
  return undefined;
}

/**
 * Whether `e` is about one of the app's objects. A Deployment named `<app>-<rest>` with no dash in
 * `rest` is taken as one of the app's colors even when the dashboard never saw it (the chart
 * names colors `<app>-<color>`), so an app `web` does not pick up `web-api-1a2b3c`.
 */
export function involvesApp(e: CoreV1Event, app: AppObjects): boolean {
  const o = e.involvedObject;
  if ((o?.namespace ?? e.metadata?.namespace) !== app.namespace || !o?.name) return false;
  if (o.kind === 'Service') return app.services.includes(o.name);
  if (o.kind !== 'Deployment') return false;
  if (app.deployments.includes(o.name)) return true;
  if (app.colors.some((c) => deploymentName(app.app, c) === o.name)) return true;
  const prefix = `${app.app}-`;
  return o.name.startsWith(prefix) && o.name.length > prefix.length && !o.name.slice(prefix.length).includes('-');
}

/** The app's rainbow Events, newest first, at most `limit`. */
export function eventsOfApp(events: readonly CoreV1Event[], app: AppObjects, limit = EVENTS_PER_APP): EventView[] {
  return events
    .filter((e) => isRainbowEvent(e) && involvesApp(e, app))
    .map((e) => ({ e, at: eventTime(e) }))
    // Times are whole seconds: within one, the later write first (resourceVersions grow with etcd's
    // revisions; the controller's once-only Events have names that do not sort by time).
    .sort(
      (a, b) =>
        (b.at?.getTime() ?? 0) - (a.at?.getTime() ?? 0) ||
        (Number(b.e.metadata?.resourceVersion) || 0) - (Number(a.e.metadata?.resourceVersion) || 0) ||
        (b.e.metadata?.name ?? '').localeCompare(a.e.metadata?.name ?? ''),
    )
    .slice(0, Math.max(0, limit))
    .map(({ e, at }) => ({
      at: (at ?? new Date(0)).toISOString(),
      type: e.type ?? '',
      reason: e.reason ?? '',
      kind: e.involvedObject?.kind ?? '',
      object: e.involvedObject?.name ?? '',
      message: e.message ?? '',
      count: e.series?.count ?? e.count ?? 1,
    }));
}
