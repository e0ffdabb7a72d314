// Waiting for something to become true, used by the local cluster, the demo and the e2e tests.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Checked after every failed attempt: a message stops the wait at once (e.g. a daemon exited). */
  abort?: () => string | undefined;
  /** Appended to the timeout error, e.g. "see .local-cluster/logs/etcd.log". */
  hint?: string;
}

/**
 * Polls until `check` returns a truthy value and returns it; a check that throws counts as not
 * yet. The timeout error says what was awaited and the last value or error seen.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
  opts: PollOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    const aborted = opts.abort?.();
    if (aborted) throw new Error(aborted);
    await sleep(intervalMs);
  }
  const seen = last instanceof Error ? last.message : JSON.stringify(last);
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${seen}${opts.hint ? `; ${opts.hint}` : ''}`);
}
