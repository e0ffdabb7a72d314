// Fault windows (pure): from the chaos log, the stretch of time during which a fault may excuse a
// failure — from the moment the fault struck until the part was seen back, plus a slack for what
// follows it (kube-proxy reprogramming, EndpointSlices catching up). A failure in no window is a
// failure of rainbow or of the cluster; one inside a window is attributed to that fault.
import type { FaultKind } from './plan.js';

export interface FaultRecord {
  i: number;
  kind: FaultKind;
  /** What was hit: a pod and container, a daemon. */
  target: string;
  /** How it was hit: "SIGKILL pid 1234 (process group)", "SIGTERM, down 3.1 s, started again". */
  how: string;
  startedAt: number;
  /** False when it could not strike (no target found, the kill failed): no window then. */
  struck: boolean;
  /** When the part was seen working again; absent if it never was within the fault's own timeout. */
  backAt?: number;
  /** Why the fault could not strike or its part did not come back. */
  error?: string;
}

export interface FaultWindow {
  fault: number;
  kind: FaultKind;
  target: string;
  from: number;
  to: number;
  /** True when the part never came back: the window runs to the end of the run. */
  open: boolean;
}

export function faultWindows(faults: readonly FaultRecord[], slackMs: number, endOfRun: number): FaultWindow[] {
  return faults
    .filter((f) => f.struck)
    .map((f) => ({
      fault: f.i,
      kind: f.kind,
      target: f.target,
      from: f.startedAt,
      to: (f.backAt ?? endOfRun) + slackMs,
      open: f.backAt === undefined,
    }));
}

/** The first window that holds `t`, if any. */
export function windowAt(t: number, windows: readonly FaultWindow[]): FaultWindow | undefined {
  return windows.find((w) => t >= w.from && t <= w.to);
}

/** The first window that overlaps [from, to], if any. */
export function windowOverlapping(from: number, to: number, windows: readonly FaultWindow[]): FaultWindow | undefined {
  return windows.find((w) => w.from <= to && w.to >= from);
}

export interface Attributed<T> {
  inWindows: Array<T & { window: FaultWindow }>;
  outside: T[];
  /** Per window, "kind #i": how many fell in it. */
  perWindow: Record<string, number>;
}

export const windowName = (w: Pick<FaultWindow, 'kind' | 'fault'>) => `${w.kind} #${w.fault}`;

export function attribute<T extends { at: number }>(items: readonly T[], windows: readonly FaultWindow[]): Attributed<T> {
  const out: Attributed<T> = { inWindows: [], outside: [], perWindow: {} };
  for (const item of items) {
    const w = windowAt(item.at, windows);
    if (!w) {
      out.outside.push(item);
      continue;
    }
    out.inWindows.push({ ...item, window: w });
    const key = windowName(w);
    out.perWindow[key] = (out.perWindow[key] ?? 0) + 1;
  }
  return out;
}
