// The peers benchmark's figures, from what it recorded: the clients' streams and short
// connections (scripts/bench/peers/clients.ts) and the sampled pod counts of the old version.
// Pure: every time is an epoch millisecond given in, nothing reads the clock.

/** One long-lived stream as the clients recorded it. */
export interface StreamRecord {
  i: number;
  /** How long after the release its client meant to close it. */
  plannedMs: number;
  /** When its first line came (epoch ms); undefined if it never opened. */
  openedAt?: number;
  /** The color of its first line. */
  color?: string;
  /** Every line: [epoch ms, the color it named (or the raw line if it named none)]. */
  lines: Array<[number, string]>;
  /** When it ended (epoch ms); undefined while open. */
  endedAt?: number;
  /**
   * planned: its client closed it at its planned moment; fin: the server ended it first; reset:
   * ECONNRESET/EPIPE; error: another socket error; silent: at its planned moment no line had come
   * for longer than the app's interval allows (its server went away without a FIN: endedAt is the
   * last line's time); failed: never opened; open: still open when the record was written.
   */
  end: 'planned' | 'fin' | 'reset' | 'error' | 'silent' | 'failed' | 'open';
  why?: string;
}

/** One short connection: an HTTP GET on :8080 or a TCP connect and first line on :8081. */
export interface ProbeRecord {
  /** When it was started (epoch ms). */
  at: number;
  kind: 'http' | 'tcp';
  /** How long it took, to its answer or its failure. */
  ms: number;
  color?: string;
  error?: string;
}

export interface PodSample {
  /** Epoch ms. */
  t: number;
  /** The old version's pods the API server still lists and that have not finished (terminating ones included). */
  count: number;
}

const s = (ms: number) => Math.round(ms / 100) / 10;

/**
 * The integral of `count` over [fromMs, toMs] in pod-seconds, each sample's count held until
 * the next sample (the last one's until `toMs`). Samples must be in time order; time before the
 * first sample counts nothing.
 */
export function podSeconds(samples: readonly PodSample[], fromMs: number, toMs: number): number {
  let total = 0;
  for (let k = 0; k < samples.length; k++) {
    const a = Math.max(samples[k]!.t, fromMs);
    const b = Math.min(k + 1 < samples.length ? samples[k + 1]!.t : toMs, toMs);
    if (b > a) total += (samples[k]!.count * (b - a)) / 1000;
  }
  return total;
}

/** The first sample from which the count stayed 0 to the last sample; undefined if the last is not 0. */
export function goneAt(samples: readonly PodSample[]): number | undefined {
  let at: number | undefined;
  for (const x of samples) {
    if (x.count === 0) at ??= x.t;
    else at = undefined;
  }
  return at;
}

export interface StreamFigures {
  total: number;
  /** Streams whose first line named the old color. */
  onOld: number;
  failedToOpen: number;
  closedAsPlanned: number;
  /** Ended by the server's side (FIN, reset, error, or gone silent) before its client's planned close. */
  cut: number;
  cutBy: { fin: number; reset: number; error: number; silent: number };
  /** Still open when the record was written (the run ended before their planned close). */
  stillOpen: number;
  /** Seconds after the release of the first and last cut. */
  firstCutS?: number;
  lastCutS?: number;
  /** The shortest planned lifetime among the cut streams: streams planned shorter all lived. */
  shortestCutPlanS?: number;
  /** When the last stream that was on the old version ended (epoch ms), however it ended. */
  lastOldStreamEndAt?: number;
  /** Lines the streams received after the release, all of them (they keep printing while they live). */
  linesAfterRelease: number;
}

export function summariseStreams(streams: readonly StreamRecord[], releaseAt: number, oldColor: string): StreamFigures {
  const cut = streams.filter((x) => x.end === 'fin' || x.end === 'reset' || x.end === 'error' || x.end === 'silent');
  const cutTimes = cut.map((x) => x.endedAt).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const oldEnds = streams.filter((x) => x.color === oldColor && x.endedAt !== undefined).map((x) => x.endedAt!);
  const onOld = streams.filter((x) => x.color === oldColor);
  return {
    total: streams.length,
    onOld: onOld.length,
    failedToOpen: streams.filter((x) => x.end === 'failed').length,
    closedAsPlanned: streams.filter((x) => x.end === 'planned').length,
    cut: cut.length,
    cutBy: {
      fin: cut.filter((x) => x.end === 'fin').length,
      reset: cut.filter((x) => x.end === 'reset').length,
      error: cut.filter((x) => x.end === 'error').length,
      silent: cut.filter((x) => x.end === 'silent').length,
    },
    stillOpen: streams.filter((x) => x.end === 'open').length,
    firstCutS: cutTimes.length ? s(cutTimes[0]! - releaseAt) : undefined,
    lastCutS: cutTimes.length ? s(cutTimes[cutTimes.length - 1]! - releaseAt) : undefined,
    shortestCutPlanS: cut.length ? s(Math.min(...cut.map((x) => x.plannedMs))) : undefined,
    lastOldStreamEndAt: oldEnds.length && onOld.every((x) => x.endedAt !== undefined) ? Math.max(...oldEnds) : undefined,
    linesAfterRelease: streams.reduce((n, x) => n + x.lines.filter(([t]) => t >= releaseAt).length, 0),
  };
}

export interface ProbeFigures {
  /** Short connections started from the release until the end of the measurement. */
  total: number;
  failed: number;
  /** Failures by what went wrong (error code or message), most frequent first. */
  failures: Array<{ error: string; kind: 'http' | 'tcp'; count: number }>;
  answeredOld: number;
  answeredNew: number;
  /** Answers naming neither version (none expected). */
  answeredOther: number;
  /** Seconds from the release to the start of the first short connection answered by the new version. */
  firstNewS?: number;
  /**
   * Seconds from the release to the start of the first short connection after which every one
   * was answered by the new version (none failed, none old); undefined if the last one was not.
   */
  allNewS?: number;
  /** Seconds from the release to the start of the last one answered by the old version. */
  lastOldS?: number;
  /** Failures among the short connections started before the release (the baseline). */
  failedBeforeRelease: number;
  beforeRelease: number;
}

export function summariseProbes(probes: readonly ProbeRecord[], releaseAt: number, endAt: number, oldColor: string, newColor: string): ProbeFigures {
  const sorted = [...probes].sort((a, b) => a.at - b.at);
  const before = sorted.filter((p) => p.at < releaseAt);
  const during = sorted.filter((p) => p.at >= releaseAt && p.at <= endAt);
  const failedOnes = during.filter((p) => p.error !== undefined);
  const byError = new Map<string, { error: string; kind: 'http' | 'tcp'; count: number }>();
  for (const p of failedOnes) {
    const key = `${p.kind} ${p.error}`;
    const e = byError.get(key) ?? { error: p.error!, kind: p.kind, count: 0 };
    e.count += 1;
    byError.set(key, e);
  }
  const isNew = (p: ProbeRecord) => p.error === undefined && p.color === newColor;
  const firstNew = during.find(isNew);
  let lastNotNew = -1;
  during.forEach((p, k) => {
    if (!isNew(p)) lastNotNew = k;
  });
  const allNewFrom = lastNotNew + 1 < during.length ? during[lastNotNew + 1] : undefined;
  const olds = during.filter((p) => p.error === undefined && p.color === oldColor);
  return {
    total: during.length,
    failed: failedOnes.length,
    failures: [...byError.values()].sort((a, b) => b.count - a.count),
    answeredOld: olds.length,
    answeredNew: during.filter(isNew).length,
    answeredOther: during.filter((p) => p.error === undefined && p.color !== oldColor && p.color !== newColor).length,
    firstNewS: firstNew ? s(firstNew.at - releaseAt) : undefined,
    allNewS: allNewFrom ? s(allNewFrom.at - releaseAt) : undefined,
    lastOldS: olds.length ? s(olds[olds.length - 1]!.at - releaseAt) : undefined,
    failedBeforeRelease: before.filter((p) => p.error !== undefined).length,
    beforeRelease: before.length,
  };
}

/** The color a line of the demo app names ("The color is #3c3fdc" → 3c3fdc), or undefined. */
export function colorOfLine(line: string): string | undefined {
  return /The color is #([0-9a-z-]+)/i.exec(line)?.[1]?.toLowerCase();
}
