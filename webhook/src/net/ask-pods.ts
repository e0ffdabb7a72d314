// Asks pods' reporters for their established connections (README, "rainbow reporter").
// Used by the delete guard while the API server waits on the webhook, and by the controller
// before cleanup. Every pod gets an answer — a count or a reason it has none — and a single
// slow or broken pod never turns into an exception or holds up the others beyond its timeout.
//
// node:http with `agent: false`: one fresh socket per question, closed after the answer, so
// nothing lingers between admission reviews (and tests can see every socket end).

import { getMaxListeners, setMaxListeners } from 'node:events';
import http from 'node:http';

export interface PodTarget {
  /** Pod name, for messages ("pod web-3c3fdc-x7k2p: connection refused"). */
  name: string;
  /** Pod IP (status.podIP). */
  ip: string;
  port: number;
  path: string;
}

/** Why a pod could not be asked; stable values, used as a metric label. */
export type AskFailureReason = 'no-ip' | 'timeout' | 'refused' | 'network' | 'bad-status' | 'bad-body' | 'aborted';

export type PodReport =
  | { name: string; ok: true; established: number; ports: Record<string, number> }
  | { name: string; ok: false; reason: AskFailureReason; error: string };

export interface AskPodsOptions {
  /** Pods asked at once (default 16). */
  concurrency?: number;
  /** Budget per pod, connection to last byte (default 2000 ms). */
  timeoutMs?: number;
  /** Abort everything (the caller's own deadline); pods not yet answered report `aborted`. */
  signal?: AbortSignal;
}

/** Largest body accepted; a real answer is well under 1 KiB. */
const MAX_BODY_BYTES = 64 * 1024;

/** Asks one pod and never rejects: askPod at the pod's IP, or another way to reach its reporter. */
export type AskOne = (target: PodTarget, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<PodReport>;

/**
 * Ask every target; resolves with one report per target, in the targets' order.
 * No pod can make it reject; only invalid options do (a programming error).
 */
export async function askPods(targets: readonly PodTarget[], opts: AskPodsOptions = {}, askOne: AskOne = askPod): Promise<PodReport[]> {
  const concurrency = opts.concurrency ?? 16;
  const timeoutMs = opts.timeoutMs ?? 2000;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`askPods: concurrency must be an integer ≥ 1, got ${concurrency}`);
  }
  checkTimeout(timeoutMs);
  const reports = new Array<PodReport>(targets.length);
  let next = 0;
  // Each request in flight listens for the shared abort: up to `concurrency` listeners by design,
  // more than Node's default warning threshold of 10.
  if (opts.signal) setMaxListeners(Math.max(concurrency + 1, getMaxListeners(opts.signal)), opts.signal);

  // A fixed pool of workers pulling the next index: at most `concurrency` requests in flight.
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      reports[i] = await askOne(targets[i]!, { timeoutMs, signal: opts.signal });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return reports;
}

function checkTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`askPods: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
}

/** Ask one pod. Failures come back as `{ok: false, reason, error}`; only invalid options reject. */
export async function askPod(target: PodTarget, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PodReport> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  checkTimeout(timeoutMs);
  const hostPort = `${target.ip.includes(':') ? `[${target.ip}]` : target.ip}:${target.port}`;
  // The path comes from a pod annotation; tolerate a missing leading slash.
  const requestPath = target.path.startsWith('/') ? target.path : `/${target.path}`;
  const where = `${hostPort}${requestPath}`;
  const fail = (reason: AskFailureReason, error: string): PodReport => ({
    name: target.name,
    ok: false,
    reason,
    error: `pod ${target.name}: ${error}`,
  });

  if (!target.ip) return fail('no-ip', 'has no IP yet (not scheduled or not started), cannot ask its reporter');
  if (opts.signal?.aborted) return fail('aborted', `not asked: ${abortMessage(opts.signal)}`);

  let body: string;
  let status: number;
  try {
    ({ status, body } = await get(target, requestPath, timeoutMs, opts.signal));
  } catch (err) {
    if (err instanceof TimeoutError) {
      return fail('timeout', `timeout after ${timeoutMs} ms asking http://${where} (reporter not answering; is the pod overloaded or its sidecar stuck?)`);
    }
    if (err instanceof AbortedError) return fail('aborted', `asking http://${where} aborted: ${err.message}`);
    if (err instanceof TooLargeError) return fail('bad-body', `answer from http://${where} is larger than ${MAX_BODY_BYTES} bytes, not a reporter answer`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') {
      return fail('refused', `connection refused at ${hostPort} (is the reporter sidecar running, and is ${target.port} the right connections-port?)`);
    }
    return fail('network', `cannot reach http://${where}: ${code ?? (err as Error).message}`);
  }

  if (status !== 200) {
    return fail('bad-status', `bad status ${status} from http://${where}: ${snippet(body)}`);
  }
  return answerReport(target.name, `http://${where}`, body);
}

/** The report for a reporter's 200 answer `body` from pod `name`, asked at `where`: its counts, or why they are not counts. */
export function answerReport(name: string, where: string, body: string): PodReport {
  const fail = (error: string): PodReport => ({ name, ok: false, reason: 'bad-body', error: `pod ${name}: ${error}` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return fail(`bad JSON from ${where} (${(err as Error).message}): ${snippet(body)}`);
  }
  const problem = checkCounts(parsed);
  if (problem) return fail(`bad answer from ${where}: ${problem}`);
  const counts = parsed as { established: number; ports?: Record<string, number> };
  return { name, ok: true, established: counts.established, ports: { ...(counts.ports ?? {}) } };
}

/** What is wrong with a decoded answer, or undefined when it is `{established: N, ports: {...}}`. */
function checkCounts(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object';
  const o = v as Record<string, unknown>;
  if (!isCount(o.established)) return `"established" must be a non-negative integer, got ${JSON.stringify(o.established)}`;
  // `ports` may be absent: an app that serves the endpoint itself may give only the total.
  if (o.ports === undefined) return undefined;
  if (typeof o.ports !== 'object' || o.ports === null || Array.isArray(o.ports)) return '"ports" must be an object';
  for (const [port, n] of Object.entries(o.ports)) {
    if (!isCount(n)) return `ports["${port}"] must be a non-negative integer, got ${JSON.stringify(n)}`;
  }
  return undefined;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

function snippet(body: string): string {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > 120 ? `${s.slice(0, 120)}…` : s || '(empty body)';
}

function abortMessage(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return r === undefined ? 'aborted by caller' : String(r);
}

class TimeoutError extends Error {}
class AbortedError extends Error {}
class TooLargeError extends Error {}

/** GET with one budget for the whole exchange; always clears its timer and listener. */
function get(target: PodTarget, requestPath: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: { status: number; body: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else {
        resolve(value!);
      }
    };
    const onAbort = (): void => finish(new AbortedError(abortMessage(signal!)));
    const timer = setTimeout(() => finish(new TimeoutError()), timeoutMs);

    const req = http.request(
      {
        host: target.ip,
        port: target.port,
        path: requestPath,
        method: 'GET',
        agent: false, // no pooling: the socket closes with the response
        headers: { Accept: 'application/json', Connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) return finish(new TooLargeError());
          chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish(err));
        res.on('close', () => {
          if (!res.complete) finish(new Error('connection closed before the answer was complete'));
        });
      },
    );
    req.on('error', (err) => finish(err));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
