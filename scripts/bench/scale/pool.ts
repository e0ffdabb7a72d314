// Bounded concurrency for the scale benchmark's thousands of API requests: a semaphore that keeps
// at most `limit` requests in flight, and a pool that runs one task per item with progress.

export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
}

export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`createLimiter: limit must be a positive integer, got ${limit}`);
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    inFlight--;
    const next = waiting.shift();
    if (next) {
      inFlight++;
      next();
    }
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (inFlight >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else inFlight++;
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get inFlight() {
      return inFlight;
    },
  };
}

/**
 * Runs `task` for every item, at most `concurrency` at once, in order of the items; rejects with
 * the first failure once the tasks in flight have ended. `onProgress(done, total)` after each.
 */
export async function forEachPooled<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>, onProgress?: (done: number, total: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        await task(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
      done++;
      onProgress?.(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw failure.err;
}

/** A progress reporter that says something at most every `everyMs` (and at the end). */
export function throttledProgress(say: (line: string) => void, what: string, everyMs = 5000): (done: number, total: number) => void {
  let last = 0;
  const started = Date.now();
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < everyMs) return;
    last = now;
    const s = (now - started) / 1000;
    say(`    ${what}: ${done}/${total} (${s.toFixed(0)} s${done < total && done > 0 ? `, ~${Math.round((s / done) * (total - done))} s left` : ''})`);
  };
}
