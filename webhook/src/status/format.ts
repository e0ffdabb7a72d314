// Rendering `rainbow status` (pure): a kubectl-like table per app, or a stable JSON document.
import { cssColor } from '../domain/contract.js';
import { describePublishedForecast } from '../domain/forecast-annotation.js';
import { formatDrainStarted, stateLabel } from '../domain/color-states.js';
import type { AppStatus, ColorRow, StatusReport } from './model.js';

/** JSON document's apiVersion/kind; bump the version on an incompatible change. */
export const STATUS_API_VERSION = 'rainbow.dev/v1alpha1';
export const STATUS_KIND = 'Status';

/** Colors only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org). */
export function wantsColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(isTTY);
}

/** Whether to paint swatches: as wantsColor, on a terminal that says it does 24-bit color. */
export function wantsTrueColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (!wantsColor(isTTY, env)) return false;
  const ct = (env.COLORTERM ?? '').trim().toLowerCase();
  return ct === 'truecolor' || ct === '24bit';
}

/** Two cells in the color's CSS color (`\x1b[48;2;r;g;bm  \x1b[0m`), or two spaces when it has none. */
export function swatch(color: string): string {
  const css = cssColor(color);
  if (!css) return '  ';
  const n = Number.parseInt(css.slice(1), 16);
  return `\x1b[48;2;${(n >> 16) & 255};${(n >> 8) & 255};${n & 255}m  \x1b[0m`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Width on screen: ANSI sequences take none. */
export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/** kubectl's HumanDuration (k8s.io/apimachinery/pkg/util/duration), from seconds. */
export function humanDuration(totalSeconds: number): string {
  const seconds = Math.floor(totalSeconds);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Seconds from `now` to the max-drain deadline (negative when past), for a color on the way out. */
export function drainLeftSeconds(row: ColorRow, now: Date): number | undefined {
  if (!row.drainDeadline || (row.state !== 'draining' && row.state !== 'drained')) return undefined;
  return (row.drainDeadline.getTime() - now.getTime()) / 1000;
}

function drainLeftCell(row: ColorRow, now: Date): string {
  const left = drainLeftSeconds(row, now);
  if (left === undefined) return '-';
  return left <= 0 ? 'overdue' : humanDuration(Math.ceil(left));
}

/** A draining color's published forecast relative to `now`, from its absolute bounds. */
export function forecastText(row: ColorRow, now: Date): string | undefined {
  return row.forecast ? describePublishedForecast(row.forecast, now) : undefined;
}

/** ready/desired; a shrunk color also says how many replicas it had: `1/1 (shrunk from 4)`. */
function readyCell(row: ColorRow): string {
  if (!row.deployment) return '-';
  const ready = `${row.readyReplicas}/${row.desiredReplicas}`;
  return row.shrunkFrom !== undefined ? `${ready} (shrunk from ${row.shrunkFrom})` : ready;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => visibleWidth(r[i] ?? ''))));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell))))
      .join('   ')
      .trimEnd(),
  );
}

function serviceSummary(app: AppStatus, now: Date): string {
  const u = app.uninstall;
  if (u?.uninstalled) return `no Service since ${formatDrainStarted(u.noServiceSince)}: app uninstalled, its colors drain`;
  if (u) return `no Service since ${formatDrainStarted(u.noServiceSince)}: counts as uninstalled in ${humanDuration(Math.max(0, Math.ceil((u.uninstallAt.getTime() - now.getTime()) / 1000)))} unless one comes back`;
  if (app.services.length === 0) return 'no Service';
  const parts = app.services.map((s) => `${s.name} → ${s.color ?? '(any color)'}${s.pendingColor ? ` (pending ${s.pendingColor})` : ''}`);
  return `${app.services.length === 1 ? 'Service' : 'Services'} ${parts.join(', ')}`;
}

export interface TableOptions {
  /** Paint a swatch of each color (see wantsTrueColor). */
  swatch: boolean;
  /** Reference time for AGE, DRAIN-LEFT and FORECAST (default: the report's generatedAt). */
  now?: Date;
}

/** One app: a title line, the table, then why any count is unknown and any warnings. */
export function formatApp(app: AppStatus, opts: TableOptions & { now: Date }): string {
  const header = ['COLOR', 'STATE', 'READY', 'CONNECTIONS', 'AGE', 'DRAIN-LEFT', 'FORECAST'];
  const rows = app.colors.map((c) => [
    opts.swatch ? `${swatch(c.color)} ${c.color}` : c.color,
    stateLabel(c.state, app.uninstall?.uninstalled === true),
    readyCell(c),
    c.connectionsError !== undefined ? '?' : c.connections !== undefined ? String(c.connections) : '-',
    c.createdAt ? humanDuration((opts.now.getTime() - c.createdAt.getTime()) / 1000) : '-',
    drainLeftCell(c, opts.now),
    forecastText(c, opts.now) ?? '-',
  ]);
  const lines = [`${app.namespace}/${app.app}: ${serviceSummary(app, opts.now)}`];
  lines.push(...(rows.length > 0 ? table([header, ...rows]) : ['(no colors)']));
  for (const c of app.colors) if (c.connectionsError !== undefined) lines.push(`? ${c.color}: ${c.connectionsError}`);
  for (const w of app.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** Every app, separated by a blank line; ends with a newline. */
export function formatTables(report: StatusReport, opts: TableOptions): string {
  const now = opts.now ?? report.generatedAt;
  if (report.apps.length === 0) return '';
  return `${report.apps.map((a) => formatApp(a, { ...opts, now })).join('\n\n')}\n`;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** A color's forecast for JSON: every key present (null where it does not apply), or null without one. */
function forecastDocument(c: ColorRow, now: Date) {
  const f = c.forecast;
  if (!f) return null;
  const estimate = f.kind === 'estimate' ? f : undefined;
  return {
    kind: f.kind,
    text: forecastText(c, now)!,
    earliest: iso(estimate?.earliest),
    latest: iso(estimate?.latest),
    deadlineFirst: estimate ? estimate.deadlineFirst : null,
    remaining: estimate ? estimate.remaining : null,
    reason: f.kind === 'unknown' ? f.reason : null,
    computedAt: iso(f.computedAt),
  };
}

/** A plain object with every key always present (null when unknown), in a fixed order. */
export function statusDocument(report: StatusReport) {
  const now = report.generatedAt;
  return {
    apiVersion: STATUS_API_VERSION,
    kind: STATUS_KIND,
    generatedAt: now.toISOString(),
    apps: report.apps.map((a) => ({
      namespace: a.namespace,
      app: a.app,
      settings: { keepColors: a.settings.keepColors, drainGraceSeconds: a.settings.drainGraceSeconds, maxDrainSeconds: a.settings.maxDrainSeconds, shrink: a.settings.shrink },
      uninstall: a.uninstall ? { noServiceSince: a.uninstall.noServiceSince.toISOString(), uninstallAt: a.uninstall.uninstallAt.toISOString(), uninstalled: a.uninstall.uninstalled } : null,
      services: a.services.map((s) => ({ name: s.name, color: s.color ?? null, pendingColor: s.pendingColor ?? null })),
      colors: a.colors.map((c) => {
        const left = drainLeftSeconds(c, now);
        return {
          color: c.color,
          css: c.css ?? null,
          state: c.state,
          stateLabel: stateLabel(c.state, a.uninstall?.uninstalled === true),
          deployment: c.deployment ?? null,
          readyReplicas: c.readyReplicas,
          desiredReplicas: c.desiredReplicas,
          shrunkFrom: c.shrunkFrom ?? null,
          available: c.available,
          connections: c.connections ?? null,
          connectionsError: c.connectionsError ?? null,
          createdAt: iso(c.createdAt),
          ageSeconds: c.createdAt ? Math.max(0, Math.floor((now.getTime() - c.createdAt.getTime()) / 1000)) : null,
          drainStartedAt: iso(c.drainStartedAt),
          drainDeadline: iso(c.drainDeadline),
          drainLeftSeconds: left === undefined ? null : Math.ceil(left),
          forecast: forecastDocument(c, now),
        };
      }),
      warnings: [...a.warnings],
    })),
  };
}

/** Pretty JSON (one document); `compact` for one line per document (--watch). */
export function formatJson(report: StatusReport, compact = false): string {
  return `${JSON.stringify(statusDocument(report), null, compact ? undefined : 2)}\n`;
}
