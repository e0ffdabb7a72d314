// The soak's pure parts (scripts/soak/plan.ts, windows.ts, checks.ts): the plan drawn from a seed,
// fault windows and the attribution of failures to them, and each check over recorded data.
import { DEFAULT_LIFETIME, FAULT_KINDS, SCOPED_FAULTS, defaultFaultCount, makePlan, summarisePlan, type PlanOptions } from '../../../scripts/soak/plan.js';
import { attribute, faultWindows, windowAt, windowOverlapping, type FaultRecord } from '../../../scripts/soak/windows.js';
import {
  checkDeletedWhileHolding,
  checkDrainedDeleted,
  checkFaults,
  checkLeftovers,
  checkRequests,
  checkSelector,
  checkStreamsCut,
  checkStreamsOpened,
  runChecks,
  type SoakRecord,
  type StreamRecord,
} from '../../../scripts/soak/checks.js';

const base: PlanOptions = {
  seed: 42,
  releases: 30,
  minutes: 20,
  streams: 200,
  lifetime: DEFAULT_LIFETIME,
  faults: FAULT_KINDS,
  faultCount: defaultFaultCount(20, FAULT_KINDS.length),
  minFaultGapS: 20,
};

describe('the plan', () => {
  test('is the same for the same seed, another for another seed', () => {
    expect(makePlan(base)).toEqual(makePlan(base));
    expect(makePlan({ ...base, seed: 43 })).not.toEqual(makePlan(base));
  });

  test('N releases, each a new color, in order, inside the run with room at the end to drain', () => {
    const p = makePlan(base);
    expect(p.releases).toHaveLength(30);
    const colors = [p.firstColor, ...p.releases.map((r) => r.color)];
    expect(new Set(colors).size).toBe(31);
    expect(colors.every((c) => /^[0-9a-f]{6}$/.test(c))).toBe(true);
    const slot = p.durationMs / 31;
    for (let k = 0; k < p.releases.length; k++) {
      const r = p.releases[k]!;
      expect(r.n).toBe(k + 1);
      expect(r.atMs).toBeGreaterThan(0);
      expect(r.atMs).toBeLessThan(p.durationMs - slot);
      if (k > 0) expect(r.atMs).toBeGreaterThan(p.releases[k - 1]!.atMs);
    }
  });

  test('streams: every one opens in the first 85 % and its client closes it before the run ends; long-tailed lifetimes', () => {
    const p = makePlan(base);
    expect(p.streams).toHaveLength(200);
    for (const s of p.streams) {
      expect(s.openAtMs).toBeGreaterThanOrEqual(0);
      expect(s.openAtMs).toBeLessThanOrEqual(p.durationMs * 0.85);
      expect(s.lifetimeMs).toBeGreaterThanOrEqual(DEFAULT_LIFETIME.minS * 1000);
      expect(s.lifetimeMs).toBeLessThanOrEqual(DEFAULT_LIFETIME.capS * 1000);
      expect(s.openAtMs + s.lifetimeMs).toBeLessThanOrEqual(p.durationMs - 15_000);
    }
    const sum = summarisePlan(p);
    // Long tail: the slowest are many times the median.
    expect(sum.lifetimeS.p50).toBeGreaterThan(10);
    expect(sum.lifetimeS.p50).toBeLessThan(45);
    expect(sum.lifetimeS.max / sum.lifetimeS.p50).toBeGreaterThan(8);
    // Sorted by opening time.
    expect(p.streams.map((s) => s.openAtMs)).toEqual([...p.streams.map((s) => s.openAtMs)].sort((a, b) => a - b));
  });

  test('faults: every kind comes up, at least the gap apart, between 5 % and 90 % of the run', () => {
    const p = makePlan(base);
    expect(p.faults).toHaveLength(24);
    expect(new Set(p.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    for (let k = 0; k < p.faults.length; k++) {
      const f = p.faults[k]!;
      expect(f.atMs).toBeGreaterThanOrEqual(p.durationMs * 0.05 - 1);
      expect(f.atMs).toBeLessThanOrEqual(p.durationMs * 0.9 + 1);
      expect(f.pick).toBeGreaterThanOrEqual(0);
      expect(f.pick).toBeLessThan(1);
      expect(f.downMs).toBeGreaterThanOrEqual(1000);
      expect(f.downMs).toBeLessThanOrEqual(5000);
      if (k > 0) expect(f.atMs - p.faults[k - 1]!.atMs).toBeGreaterThanOrEqual(20_000 - 1);
    }
  });

  test('a short run gets only as many faults as fit at the gap; none when no kind is allowed', () => {
    const p = makePlan({ ...base, minutes: 1, faultCount: 50 });
    expect(p.faults.length).toBeLessThanOrEqual(Math.floor((60_000 * 0.85) / 20_000) + 1);
    expect(makePlan({ ...base, faults: [] }).faults).toEqual([]);
    expect(new Set(makePlan({ ...base, minutes: 4, releases: 5, faults: SCOPED_FAULTS, faultCount: 6 }).faults.map((f) => f.kind))).toEqual(new Set(SCOPED_FAULTS));
  });

  test('more streams do not move the releases or the faults (separate generators)', () => {
    const a = makePlan(base);
    const b = makePlan({ ...base, streams: 50 });
    expect(b.releases).toEqual(a.releases);
    expect(b.faults).toEqual(a.faults);
  });

  test('refuses a plan that cannot run', () => {
    expect(() => makePlan({ ...base, releases: 0 })).toThrow(/bad soak plan/);
    expect(() => makePlan({ ...base, minutes: 0 })).toThrow(/bad soak plan/);
  });
});

const fault = (i: number, startedAt: number, backAt: number | undefined, kind: FaultRecord['kind'] = 'webhook-pod', struck = true): FaultRecord => ({
  i,
  kind,
  target: `t${i}`,
  how: 'SIGKILL',
  startedAt,
  backAt,
  struck,
});

describe('fault windows', () => {
  const faults = [fault(0, 1000, 3000), fault(1, 10_000, undefined, 'kube-apiserver'), fault(2, 5000, 6000, 'reporter', false)];
  const windows = faultWindows(faults, 500, 20_000);

  test('from the fault to the part back plus the slack; to the end of the run when it never came back; none when it did not strike', () => {
    expect(windows).toEqual([
      { fault: 0, kind: 'webhook-pod', target: 't0', from: 1000, to: 3500, open: false },
      { fault: 1, kind: 'kube-apiserver', target: 't1', from: 10_000, to: 20_500, open: true },
    ]);
  });

  test('a moment is in a window inclusive of both ends; overlap of a span', () => {
    expect(windowAt(999, windows)).toBeUndefined();
    expect(windowAt(1000, windows)?.fault).toBe(0);
    expect(windowAt(3500, windows)?.fault).toBe(0);
    expect(windowAt(3501, windows)).toBeUndefined();
    expect(windowAt(5500, windows)).toBeUndefined(); // fault 2 never struck
    expect(windowOverlapping(3600, 9000, windows)).toBeUndefined();
    expect(windowOverlapping(3600, 10_000, windows)?.fault).toBe(1);
  });

  test('failures are split into those in a window (counted per window) and those outside any', () => {
    const a = attribute([{ at: 1200 }, { at: 3400 }, { at: 4000 }, { at: 12_000 }], windows);
    expect(a.outside).toEqual([{ at: 4000 }]);
    expect(a.inWindows.map((x) => x.window.fault)).toEqual([0, 0, 1]);
    expect(a.perWindow).toEqual({ 'webhook-pod #0': 2, 'kube-apiserver #1': 1 });
  });
});

const stream = (i: number, color: string, openedAt: number, endedAt: number, endedBy: StreamRecord['endedBy'] = 'client'): StreamRecord => ({
  i,
  plannedAt: openedAt - 10,
  openedAt: endedBy === 'never-opened' ? undefined : openedAt,
  attempts: 1,
  colors: endedBy === 'never-opened' ? [] : [color],
  lines: endedBy === 'never-opened' ? [] : [[0, `The color is #${color}`]],
  endedAt,
  endedBy,
});

/** Colors a (0), b (1), c (2): a serves 0–10 s, b 10–20 s, c from 20 s to the end (60 s). */
function record(over: Partial<SoakRecord> = {}): SoakRecord {
  return {
    app: 'soak',
    startedAt: 0,
    endedAt: 60_000,
    drainGraceMs: 5000,
    intervalMs: 2000,
    streams: [stream(0, 'aaaaaa', 1000, 15_000), stream(1, 'bbbbbb', 12_000, 30_000), stream(2, 'cccccc', 22_000, 50_000)],
    requests: { sent: 100, ok: 100, byColor: { aaaaaa: 20, bbbbbb: 20, cccccc: 60 }, failures: [], latencyMs: { p50: 3, p99: 10, max: 20 } },
    faults: [fault(0, 40_000, 42_000)],
    colors: [
      { color: 'aaaaaa', release: 0, servingFrom: 0, servingUntil: 9900, drainStarted: 10_000, goneAt: 24_000 },
      { color: 'bbbbbb', release: 1, servingFrom: 10_000, servingUntil: 19_900, drainStarted: 20_000, goneAt: 38_000 },
      { color: 'cccccc', release: 2, servingFrom: 20_000, servingUntil: 60_000 },
    ],
    finalColor: 'cccccc',
    notAvailableSamples: [],
    switches: [
      { at: 10_000, color: 'bbbbbb', switched: true, available: true },
      { at: 20_000, color: 'cccccc', switched: true, available: true },
    ],
    samples: { taken: 120, failed: 0 },
    events: [
      { reason: 'Deleted', object: 'soak-aaaaaa', message: 'Deployment soak-aaaaaa (color aaaaaa) deleted: drained', at: 23_000 },
      { reason: 'Deleted', object: 'soak-bbbbbb', message: 'Deployment soak-bbbbbb (color bbbbbb) deleted: drained', at: 37_000 },
    ],
    leftovers: { processes: [], sockets: [], networkNamespaces: [] },
    ...over,
  };
}
const opts = { windowSlackMs: 1000, deleteSlackMs: 3000 };

describe('the checks', () => {
  test('a clean record passes every check', () => {
    const checks = runChecks(record(), opts);
    expect(checks.filter((c) => !c.ok).map((c) => c.line)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'faults',
      'streams cut',
      'streams that could not open',
      'short requests failed',
      'colors deleted while holding a connection',
      'drained colors deleted in time',
      'Service selected a not-Available color',
      'left behind',
    ]);
    expect(checks.find((c) => c.name === 'streams cut')!.line).toBe('streams cut: 0 (of 3 opened; 3 closed by their client)');
  });

  test('streams cut: one ended by the server side fails, and so does one still open at the end', () => {
    const r = record({ streams: [stream(0, 'aaaaaa', 1000, 15_000, 'server'), { ...stream(1, 'bbbbbb', 12_000, 30_000), endedBy: 'open', endedAt: undefined }] });
    const c = checkStreamsCut(r);
    expect(c.ok).toBe(false);
    expect(c.line).toBe('streams cut: 1 (of 2 opened; 0 closed by their client; 1 still open at the end)');
    expect(c.details).toHaveLength(2);
  });

  test('streams that could not open: in a fault window they are attributed, outside one they fail', () => {
    const w = faultWindows([fault(0, 40_000, 42_000)], 1000, 60_000);
    expect(checkStreamsOpened(record({ streams: [stream(5, '', 41_000, 45_000, 'never-opened')] }), w).ok).toBe(true);
    const bad = checkStreamsOpened(record({ streams: [stream(5, '', 30_000, 45_000, 'never-opened')] }), w);
    expect(bad.ok).toBe(false);
    expect(bad.line).toMatch(/outside any: 1/);
  });

  test('short requests: failures in fault windows pass and are counted per window; one outside fails', () => {
    const w = faultWindows([fault(0, 40_000, 42_000, 'kube-apiserver')], 1000, 60_000);
    const inside = checkRequests(record({ requests: { ...record().requests, failures: [{ at: 40_500, error: 'ECONNRESET' }, { at: 42_900, error: 'timeout' }] } }), w);
    expect(inside.ok).toBe(true);
    expect(inside.line).toMatch(/^short requests failed: 2 of 100 \(in fault windows: 2 — kube-apiserver #0: 2; outside any: 0\)/);
    const outside = checkRequests(record({ requests: { ...record().requests, failures: [{ at: 43_100, error: 'ECONNREFUSED' }] } }), w);
    expect(outside.ok).toBe(false);
    expect(outside.details[0]).toMatch(/outside any fault window: .* ECONNREFUSED/);
    expect(checkRequests(record({ requests: { ...record().requests, sent: 0, ok: 0 } }), w).ok).toBe(false);
  });

  test('deleted while holding: a stream open when its color went fails, by the sample or by the Event', () => {
    // The stream on a closes at 25 s, but a was seen gone at 24 s.
    const bySample = checkDeletedWhileHolding(record({ streams: [stream(0, 'aaaaaa', 1000, 25_000, 'server')], events: [] }));
    expect(bySample.ok).toBe(false);
    expect(bySample.line).toMatch(/^colors deleted while holding a connection: 1 /);
    // No sample saw it, but the Deleted Event (whole seconds) is before the close.
    const colors = record().colors.map((c) => (c.color === 'aaaaaa' ? { ...c, goneAt: undefined } : c));
    expect(checkDeletedWhileHolding(record({ colors, streams: [stream(0, 'aaaaaa', 1000, 24_500)] })).ok).toBe(false);
    // Closed within the Event's second: not counted against it (up to 999 ms later).
    expect(checkDeletedWhileHolding(record({ colors, streams: [stream(0, 'aaaaaa', 1000, 23_900)] })).ok).toBe(true);
  });

  test('deleted while holding: a deletion for anything but "drained" fails, from the Events', () => {
    const c = checkDeletedWhileHolding(record({ events: [...record().events, { reason: 'DrainDeadlineExceeded', object: 'soak-bbbbbb', message: 'past max-drain', at: 36_000 }] }));
    expect(c.ok).toBe(false);
    expect(c.details[0]).toMatch(/DrainDeadlineExceeded on soak-bbbbbb/);
  });

  test('drained in time: within grace + interval + slack after the later of the last close and drain-started', () => {
    // a: last close 15 s, drain-started 10 s → due by 15 + 5 + 2 + 3 = 25 s; gone at 24 s.
    // b: last close 30 s → due by 40 s; gone at 38 s.
    const ok = checkDrainedDeleted(record(), [], opts);
    expect(ok.ok).toBe(true);
    expect(ok.line).toMatch(/: 2 \(slowest 9\.0 s after the last close\); not explained: 0$/);
    // b gone only at 45 s, with no fault around: fails.
    const late = record({ colors: record().colors.map((c) => (c.color === 'bbbbbb' ? { ...c, goneAt: 45_000 } : c)), events: [], faults: [] });
    const bad = checkDrainedDeleted(late, faultWindows(late.faults, 1000, 60_000), opts);
    expect(bad.ok).toBe(false);
    expect(bad.details[0]).toMatch(/^bbbbbb: deleted 15\.0 s after it drained \(allowed 10\.0 s\); no fault window overlaps/);
    // The same lateness with a fault (a controller kill) between the close and the deletion: explained.
    const withFault = { ...late, faults: [fault(0, 33_000, 36_000, 'controller-leader')] };
    const explained = checkDrainedDeleted(withFault, faultWindows(withFault.faults, 1000, 60_000), opts);
    expect(explained.ok).toBe(true);
    expect(explained.line).toMatch(/late while a fault lasted: 1/);
  });

  test('drained in time: a drained color still there at the end fails with how long; the final color is left alone', () => {
    const r = record({ colors: record().colors.map((c) => (c.color === 'bbbbbb' ? { ...c, goneAt: undefined } : c)), events: [] });
    const c = checkDrainedDeleted(r, [], opts);
    expect(c.ok).toBe(false);
    expect(c.details).toEqual(['bbbbbb: still there 30.0 s after it drained (allowed 10.0 s); no fault window overlaps']);
  });

  test('drained in time: a color that never served (superseded while pending) drains from the first switch to a newer color', () => {
    const r = record({
      colors: [
        { color: 'aaaaaa', release: 0, servingFrom: 0, servingUntil: 19_900, drainStarted: 20_000, goneAt: 28_000 },
        { color: 'bbbbbb', release: 1, goneAt: 26_000 },
        { color: 'cccccc', release: 2, servingFrom: 20_000, servingUntil: 60_000 },
      ],
      switches: [{ at: 20_000, color: 'cccccc', switched: true, available: true }],
      streams: [stream(0, 'aaaaaa', 1000, 15_000)],
      events: [],
    });
    expect(checkDrainedDeleted(r, [], opts).ok).toBe(true);
  });

  test('selector: a switch to a color not Available fails; a serving color not Available counts only outside fault windows', () => {
    const bad = checkSelector(record({ switches: [{ at: 10_000, color: 'bbbbbb', switched: true, available: false }] }), []);
    expect(bad.ok).toBe(false);
    expect(bad.line).toMatch(/^Service moved to a color that was not Available: 1 of 1 switches/);
    const w = faultWindows([fault(0, 40_000, 42_000, 'reporter')], 1000, 60_000);
    const dip = [{ at: 41_000, color: 'cccccc', switched: false, available: false }];
    expect(checkSelector(record({ notAvailableSamples: dip }), w).ok).toBe(true);
    const stray = [{ at: 50_000, color: 'cccccc', switched: false, available: false }];
    const c = checkSelector(record({ notAvailableSamples: stray }), w);
    expect(c.ok).toBe(false);
    expect(c.details[0]).toMatch(/cccccc not Available at .* outside any fault window/);
  });

  test('faults: one that did not strike or never came back fails', () => {
    expect(checkFaults(record()).ok).toBe(true);
    expect(checkFaults(record({ faults: [fault(0, 1, undefined)] })).ok).toBe(false);
    const missed = checkFaults(record({ faults: [{ ...fault(0, 1, undefined), struck: false, error: 'no Ready pod' }] }));
    expect(missed.ok).toBe(false);
    expect(missed.details[0]).toMatch(/did not strike: no Ready pod/);
  });

  test('left behind: anything fails', () => {
    expect(checkLeftovers(record()).line).toBe('left behind: 0 processes, 0 sockets, 0 network namespaces');
    const c = checkLeftovers(record({ leftovers: { processes: ['ns/pod/app (pid 1)'], sockets: [], networkNamespaces: ['ns/pod: veth…'] } }));
    expect(c.ok).toBe(false);
    expect(c.line).toBe('left behind: 1 processes, 0 sockets, 1 network namespaces');
  });
});
