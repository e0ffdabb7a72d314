// The soak's checks (pure), over what the run recorded: the clients' streams and short requests,
// the chaos log, the Service/Deployment samples, the controller's Events and what was left after
// cleanup. Each check gives one line for the summary and whether it passed.
import { attribute, faultWindows, windowName, windowOverlapping, type FaultRecord, type FaultWindow } from './windows.js';

export interface StreamRecord {
  i: number;
  /** When the client first tried to connect. */
  plannedAt: number;
  /** When the first line arrived (the stream counts as open from then on). */
  openedAt?: number;
  /** Connection attempts before one got a line (0 if none was needed… i.e. 1 when the first one worked). */
  attempts: number;
  /** The color every line named (one unless something is very wrong). */
  colors: string[];
  /** Every line, as [ms after openedAt, text]. */
  lines: Array<[number, string]>;
  /** When the stream ended, whoever ended it. */
  endedAt?: number;
  /** `client`: this client closed it at its planned time; `server`: it ended before (FIN, RST, error); `never-opened`: no attempt got a line; `open`: still open when the clients stopped. */
  endedBy: 'client' | 'server' | 'never-opened' | 'open';
  why?: string;
}

export interface RequestFailure {
  at: number;
  error: string;
}

export interface RequestRecord {
  sent: number;
  ok: number;
  byColor: Record<string, number>;
  failures: RequestFailure[];
  latencyMs: { p50: number; p99: number; max: number };
}

export interface ColorRecord {
  color: string;
  /** 0: the first install. */
  release: number;
  /** When its `helm upgrade` returned. */
  helmAt?: number;
  firstSeenAt?: number;
  availableAt?: number;
  /** First and last sample in which the Service selected it. */
  servingFrom?: number;
  servingUntil?: number;
  /** rainbow.dev/drain-started as the controller wrote it (whole seconds). */
  drainStarted?: number;
  /** First sample in which its Deployment was gone or being deleted. */
  goneAt?: number;
}

export interface ControllerEvent {
  reason: string;
  object: string;
  message: string;
  /** ms; the API keeps whole seconds. */
  at: number;
}

export interface SelectorSample {
  at: number;
  color: string;
  /** The sample before selected another color: the Service has just moved here. */
  switched: boolean;
  available: boolean;
}

export interface Leftovers {
  processes: string[];
  sockets: string[];
  networkNamespaces: string[];
}

export interface SoakRecord {
  app: string;
  startedAt: number;
  endedAt: number;
  drainGraceMs: number;
  intervalMs: number;
  streams: StreamRecord[];
  requests: RequestRecord;
  faults: FaultRecord[];
  colors: ColorRecord[];
  /** The color the Service selected at the end. */
  finalColor?: string;
  /** Samples in which the Service selected a color that was not Available (the rest were fine). */
  notAvailableSamples: SelectorSample[];
  /** Every switch seen (the first sample on a new color). */
  switches: SelectorSample[];
  samples: { taken: number; failed: number };
  events: ControllerEvent[];
  leftovers: Leftovers;
}

export interface CheckOptions {
  /** Added to a fault window after the part is back. */
  windowSlackMs: number;
  /** Added to drain-grace + one interval for a drained color's deletion. */
  deleteSlackMs: number;
}

export interface Check {
  name: string;
  ok: boolean;
  line: string;
  details: string[];
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const iso = (t: number) => new Date(t).toISOString().slice(11, 23);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const perWindow = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

export function windowsFor(r: SoakRecord, o: CheckOptions): FaultWindow[] {
  return faultWindows(r.faults, o.windowSlackMs, r.endedAt);
}

/** 1. No stream ended by anyone but its client. */
export function checkStreamsCut(r: SoakRecord): Check {
  const opened = r.streams.filter((x) => x.openedAt !== undefined);
  const cut = r.streams.filter((x) => x.endedBy === 'server');
  const stillOpen = r.streams.filter((x) => x.endedBy === 'open');
  return {
    name: 'streams cut',
    ok: cut.length === 0 && stillOpen.length === 0,
    line: `streams cut: ${cut.length} (of ${opened.length} opened; ${r.streams.filter((x) => x.endedBy === 'client').length} closed by their client${stillOpen.length ? `; ${stillOpen.length} still open at the end` : ''})`,
    details: [...cut, ...stillOpen].map(
      (x) => `stream ${x.i} on ${x.colors.join('/') || '?'}: opened ${x.openedAt ? iso(x.openedAt) : '-'}, ${x.endedBy === 'open' ? 'still open' : `ended ${x.endedAt ? iso(x.endedAt) : '?'} by the server side`} (${x.why ?? ''}), ${x.lines.length} lines`,
    ),
  };
}

/** 1b. Streams that never got a line: each must fall in a fault window. */
export function checkStreamsOpened(r: SoakRecord, windows: FaultWindow[]): Check {
  const failed = r.streams.filter((x) => x.endedBy === 'never-opened').map((x) => ({ at: x.plannedAt, i: x.i, why: x.why ?? '' }));
  const a = attribute(failed, windows);
  return {
    name: 'streams that could not open',
    ok: a.outside.length === 0,
    line: `streams that could not open: ${failed.length}${failed.length ? ` (in fault windows: ${a.inWindows.length}${a.inWindows.length ? ` — ${perWindow(a.perWindow)}` : ''}; outside any: ${a.outside.length})` : ''}`,
    details: a.outside.map((x) => `stream ${x.i} at ${iso(x.at)}: ${x.why}`),
  };
}

/** 2. Short requests that failed, each attributed to a fault window; any outside one fails the check. */
export function checkRequests(r: SoakRecord, windows: FaultWindow[]): Check {
  const a = attribute(r.requests.failures, windows);
  return {
    name: 'short requests failed',
    ok: a.outside.length === 0 && r.requests.sent > 0,
    line:
      `short requests failed: ${r.requests.failures.length} of ${r.requests.sent}` +
      (r.requests.failures.length ? ` (in fault windows: ${a.inWindows.length}${a.inWindows.length ? ` — ${perWindow(a.perWindow)}` : ''}; outside any: ${a.outside.length})` : '') +
      `; latency p50 ${r.requests.latencyMs.p50} ms, p99 ${r.requests.latencyMs.p99} ms`,
    details: [
      ...a.outside.map((f) => `outside any fault window: ${iso(f.at)} ${f.error}`),
      ...a.inWindows.slice(0, 20).map((f) => `${windowName(f.window)} (${f.window.target}): ${iso(f.at)} ${f.error}`),
    ],
  };
}

/** When a color was deleted, by the earliest evidence: the sample that saw it gone, or the controller's Deleted Event (whole seconds, so up to 999 ms later). */
export function deletedAt(r: SoakRecord, color: string): number | undefined {
  const c = r.colors.find((x) => x.color === color);
  const ev = r.events.find((e) => e.reason === 'Deleted' && e.object === `${r.app}-${color}`);
  const times = [c?.goneAt, ev ? ev.at + 999 : undefined].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** 3. No color deleted while one of its streams was open (clients' records), and no deletion but for "drained" (Events). */
export function checkDeletedWhileHolding(r: SoakRecord): Check {
  const details: string[] = [];
  let bad = 0;
  for (const c of r.colors) {
    const t = deletedAt(r, c.color);
    if (t === undefined) continue;
    const holding = r.streams.filter((x) => x.colors.includes(c.color) && x.openedAt !== undefined && x.openedAt < t && (x.endedAt === undefined || x.endedAt > t));
    if (holding.length) {
      bad += 1;
      details.push(`${c.color} deleted at ${iso(t)} while ${plural(holding.length, 'stream')} were open: ${holding.map((x) => `#${x.i} (${x.endedBy}${x.endedAt ? ` ${iso(x.endedAt)}` : ''})`).join(', ')}`);
    }
  }
  const unusual = r.events.filter((e) => (e.reason === 'Deleted' && !/deleted: drained/.test(e.message)) || e.reason === 'DrainDeadlineExceeded');
  for (const e of unusual) details.push(`Event ${e.reason} on ${e.object} at ${iso(e.at)}: ${e.message}`);
  const deletedCount = r.colors.filter((c) => deletedAt(r, c.color) !== undefined).length;
  const refused = r.events.filter((e) => e.reason === 'DeleteRefused').length;
  return {
    name: 'colors deleted while holding a connection',
    ok: bad === 0 && unusual.length === 0,
    line: `colors deleted while holding a connection: ${bad} (of ${deletedCount} deleted; ${plural(refused, 'DeleteRefused Event')}${unusual.length ? `; ${unusual.length} deletions not for "drained"` : ''})`,
    details,
  };
}

/** When a color stopped serving: drain-started, else the last sample that saw it serve, else the first switch to a newer color. */
function outOfServiceAt(r: SoakRecord, c: ColorRecord): number | undefined {
  if (c.drainStarted !== undefined) return c.drainStarted;
  if (c.servingUntil !== undefined) return c.servingUntil;
  const newer = r.switches.find((w) => (r.colors.find((x) => x.color === w.color)?.release ?? -1) > c.release);
  return newer?.at;
}

/** 4. Every drained color deleted within drain-grace + one interval + slack after its last stream closed, or the reason it is late or still there. */
export function checkDrainedDeleted(r: SoakRecord, windows: FaultWindow[], o: CheckOptions): Check {
  const allowance = r.drainGraceMs + r.intervalMs + o.deleteSlackMs;
  const details: string[] = [];
  let failed = 0;
  let inTime = 0;
  let lateInFault = 0;
  const after: number[] = [];
  for (const c of r.colors) {
    if (c.color === r.finalColor) continue;
    const out = outOfServiceAt(r, c);
    const mine = r.streams.filter((x) => x.colors.includes(c.color));
    const lastClose = Math.max(0, ...mine.map((x) => x.endedAt ?? Infinity));
    const drainedFrom = Math.max(lastClose, out ?? 0);
    const due = drainedFrom + allowance;
    const gone = deletedAt(r, c.color);
    if (out === undefined) {
      failed += 1;
      details.push(`${c.color}: never out of service and not the final color?`);
      continue;
    }
    if (!Number.isFinite(lastClose)) {
      details.push(`${c.color}: still holds a stream open at the end (not drained)`);
      failed += 1;
      continue;
    }
    if (gone !== undefined && gone <= due) {
      inTime += 1;
      after.push(gone - drainedFrom);
      continue;
    }
    const until = gone ?? r.endedAt;
    const w = windowOverlapping(drainedFrom, until, windows);
    const what = gone !== undefined ? `deleted ${s(gone - drainedFrom)} after it drained (allowed ${s(allowance)})` : `still there ${s(r.endedAt - drainedFrom)} after it drained (allowed ${s(allowance)})`;
    if (w && gone !== undefined) {
      lateInFault += 1;
      details.push(`${c.color}: ${what}; late during ${windowName(w)} (${w.target})`);
    } else {
      failed += 1;
      details.push(`${c.color}: ${what}${w ? `; ${windowName(w)} overlapped` : '; no fault window overlaps'}`);
    }
  }
  const max = after.length ? Math.max(...after) : 0;
  return {
    name: 'drained colors deleted in time',
    ok: failed === 0,
    line:
      `drained colors deleted within drain-grace ${s(r.drainGraceMs)} + interval ${s(r.intervalMs)} + slack ${s(o.deleteSlackMs)}: ${inTime}` +
      ` (slowest ${s(max)} after the last close)${lateInFault ? `; late while a fault lasted: ${lateInFault}` : ''}; not explained: ${failed}`,
    details,
  };
}

/** 5. The Service never moved to a color that was not Available; while it served one that was not (its pods hit by a fault), that was inside a fault window. */
export function checkSelector(r: SoakRecord, windows: FaultWindow[]): Check {
  const badSwitches = r.switches.filter((w) => !w.available);
  const a = attribute(r.notAvailableSamples.filter((x) => !x.switched), windows);
  return {
    name: 'Service selected a not-Available color',
    ok: badSwitches.length === 0 && a.outside.length === 0 && r.samples.taken > 0,
    line:
      `Service moved to a color that was not Available: ${badSwitches.length} of ${r.switches.length} switches` +
      `; samples on a serving color not Available: ${a.inWindows.length + a.outside.length} (outside fault windows: ${a.outside.length}) of ${r.samples.taken} samples (${r.samples.failed} failed reads)`,
    details: [
      ...badSwitches.map((w) => `switched to ${w.color} at ${iso(w.at)} while it was not Available${windowOverlapping(w.at - 5000, w.at, windows) ? ` (during ${windowName(windowOverlapping(w.at - 5000, w.at, windows)!)})` : ''}`),
      ...a.outside.slice(0, 20).map((x) => `${x.color} not Available at ${iso(x.at)} while serving, outside any fault window`),
    ],
  };
}

/** 6. Nothing of the run left. */
export function checkLeftovers(r: SoakRecord): Check {
  const l = r.leftovers;
  const n = l.processes.length + l.sockets.length + l.networkNamespaces.length;
  return {
    name: 'left behind',
    ok: n === 0,
    line: `left behind: ${l.processes.length} processes, ${l.sockets.length} sockets, ${l.networkNamespaces.length} network namespaces`,
    details: [...l.processes.map((p) => `process ${p}`), ...l.sockets.map((x) => `socket ${x}`), ...l.networkNamespaces.map((x) => `network namespace ${x}`)],
  };
}

/** 0. The chaos loop struck every fault it planned and each part came back. */
export function checkFaults(r: SoakRecord): Check {
  const struck = r.faults.filter((f) => f.struck);
  const notBack = struck.filter((f) => f.backAt === undefined);
  const missed = r.faults.filter((f) => !f.struck);
  const times = struck.filter((f) => f.backAt !== undefined).map((f) => f.backAt! - f.startedAt);
  const byKind: Record<string, number> = {};
  for (const f of struck) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    name: 'faults',
    ok: notBack.length === 0 && missed.length === 0,
    line: `faults struck: ${struck.length} of ${r.faults.length} (${perWindow(byKind) || 'none'}); back in ${times.length ? `${s(Math.min(...times))}–${s(Math.max(...times))}` : '-'}${notBack.length ? `; never back: ${notBack.length}` : ''}`,
    details: [...missed.map((f) => `${f.kind} #${f.i} did not strike: ${f.error}`), ...notBack.map((f) => `${f.kind} #${f.i} (${f.target}) not back: ${f.error ?? ''}`)],
  };
}

export function runChecks(r: SoakRecord, o: CheckOptions): Check[] {
  const windows = windowsFor(r, o);
  return [
    checkFaults(r),
    checkStreamsCut(r),
    checkStreamsOpened(r, windows),
    checkRequests(r, windows),
    checkDeletedWhileHolding(r),
    checkDrainedDeleted(r, windows, o),
    checkSelector(r, windows),
    checkLeftovers(r),
  ];
}
