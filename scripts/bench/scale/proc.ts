// What the scale benchmark reads of a process from /proc, and the arithmetic on it: CPU time
// (utime + stime of /proc/PID/stat, in clock ticks), resident memory (/proc/PID/status), and the
// drain rounds found in a series of CPU samples. The parsing and the arithmetic are pure; only
// readProcStat / readProcStatus touch /proc.
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime in /proc/PID/stat (100 on every Linux the project runs on). */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcCpu {
  /** utime + stime, in clock ticks. */
  ticks: number;
  utime: number;
  stime: number;
}

/** utime and stime (fields 14 and 15) of a /proc/PID/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcCpu {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 80)}`);
  // After ") " come field 3 (state) onwards: utime is field 14, i.e. index 11 here.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in /proc/PID/stat line: ${text.slice(0, 80)}`);
  return { utime, stime, ticks: utime + stime };
}

export interface ProcMemory {
  /** Resident set size now (VmRSS), MiB. */
  rssMiB: number;
  /** The highest RSS the process has had (VmHWM), MiB. */
  peakRssMiB: number;
  /** Anonymous pages (RssAnon): what the process itself allocated, MiB. */
  anonMiB: number;
  /** File-backed pages (RssFile): the node binary and libraries, shared with other processes, MiB. */
  fileMiB: number;
}

const kib = (text: string, field: string): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/PID/status`);
  return Number(m[1]);
};

const mib = (k: number) => Math.round((k / 1024) * 10) / 10;

/** VmRSS, VmHWM, RssAnon and RssFile of a /proc/PID/status text, in MiB (one decimal). */
export function parseProcStatus(text: string): ProcMemory {
  return { rssMiB: mib(kib(text, 'VmRSS')), peakRssMiB: mib(kib(text, 'VmHWM')), anonMiB: mib(kib(text, 'RssAnon')), fileMiB: mib(kib(text, 'RssFile')) };
}

export const readProcStat = (pid: number): ProcCpu => parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
export const readProcStatus = (pid: number): ProcMemory => parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));

export const ticksToMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;

/** One CPU sample: when (ms, any clock) and the process's utime + stime then (ticks). */
export interface CpuSample {
  t: number;
  ticks: number;
}

/** The process's CPU ticks at time `t`, interpolated linearly between the samples around it (clamped at the ends). */
export function ticksAt(samples: readonly CpuSample[], t: number): number {
  if (samples.length === 0) throw new Error('ticksAt: no samples');
  if (t <= samples[0]!.t) return samples[0]!.ticks;
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i]!;
    if (t <= b.t) {
      const a = samples[i - 1]!;
      return b.t === a.t ? b.ticks : a.ticks + ((b.ticks - a.ticks) * (t - a.t)) / (b.t - a.t);
    }
  }
  return samples[samples.length - 1]!.ticks;
}

/** CPU milliseconds used between times `from` and `to`. */
export function cpuMsBetween(samples: readonly CpuSample[], from: number, to: number): number {
  return ticksToMs(ticksAt(samples, to) - ticksAt(samples, from));
}

export interface Burst {
  /** The sample before the first tick of the burst. */
  start: number;
  /** The sample at which its last tick was seen. */
  end: number;
  ticks: number;
  /** True when at least `gapMs` of idle samples follow it: it is over. */
  closed: boolean;
}

/**
 * The bursts of CPU in a series of samples: runs of intervals in which the process used CPU,
 * merged while less than `gapMs` of idle time separates them. With the controller's drain rounds
 * separated by --interval of idle, each burst is one round. Bursts of fewer than `minTicks`
 * (a timer, a garbage collection, a lease renewal) are left out.
 */
export function bursts(samples: readonly CpuSample[], gapMs: number, minTicks = 1): Burst[] {
  const out: Burst[] = [];
  let cur: Burst | undefined;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const used = b.ticks - a.ticks;
    if (used <= 0) continue;
    if (cur && a.t - cur.end < gapMs) {
      cur.end = b.t;
      cur.ticks += used;
    } else {
      if (cur) out.push(cur);
      cur = { start: a.t, end: b.t, ticks: used, closed: false };
    }
  }
  if (cur) out.push(cur);
  const last = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
  for (let i = 0; i < out.length; i++) out[i]!.closed = i < out.length - 1 || last - out[i]!.end >= gapMs;
  return out.filter((x) => x.ticks >= minTicks);
}

/** True when the last `ms` of samples (the series must span them) used at most `maxTicks`. */
export function idleFor(samples: readonly CpuSample[], ms: number, maxTicks = 2): boolean {
  if (samples.length < 2) return false;
  const last = samples[samples.length - 1]!;
  if (last.t - samples[0]!.t < ms) return false;
  return last.ticks - ticksAt(samples, last.t - ms) <= maxTicks;
}
