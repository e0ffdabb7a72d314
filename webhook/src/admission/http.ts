// The one HTTP adapter between node:http and an admission handler. Everything about the envelope
// (method, content type, size, JSON, AdmissionReview shape, UID) is checked here, so handlers
// only ever see a well-formed AdmissionRequest. Metrics and logs attach through the hooks.
// Plain node:http request and response: a router's helpers would allocate on every review, and the
// collector's pauses are what set the webhook's tail latency.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import getRawBody from 'raw-body';
import {
  ADMISSION_API_VERSION,
  ADMISSION_KIND,
  describeRequest,
  parseReview,
  type AdmissionRequest,
  type AdmissionReview,
  type Operation,
} from './review.js';
import { errored, statusReason, toAdmissionResponse, type Decision } from './responses.js';

/**
 * One review in, one decision out. `signal` aborts when the API server drops the request (its
 * timeoutSeconds passed, or it went away): work for an answer nobody will read can stop.
 */
export type AdmissionHandler = (req: AdmissionRequest, signal?: AbortSignal) => Promise<Decision> | Decision;

/** One answered review, for metrics and logs. */
export interface ReviewObservation {
  kind: string;
  subResource?: string;
  operation: Operation;
  namespace?: string;
  name?: string;
  uid: string;
  dryRun: boolean;
  allowed: boolean;
  reason?: string;
  /** Status code carried in the response (403 denied, 500 handler failure, …). */
  code?: number;
  durationSeconds: number;
  /** Set when the handler threw; the response then says allowed=false with code 500. */
  error?: unknown;
}

/** A request refused at the HTTP level (no AdmissionReview answer was possible). */
export interface RejectionObservation {
  httpStatus: number;
  message: string;
  uid?: string;
}

export interface AdmissionRouteOptions {
  /** Largest body accepted, in bytes. The API server sends at most ~3 MiB. */
  limitBytes?: number;
  onReview?: (o: ReviewObservation) => void;
  onRejected?: (o: RejectionObservation) => void;
}

export const DEFAULT_LIMIT_BYTES = 3 * 1024 * 1024;

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

// A hook that throws must not turn an answered review into a failed one.
function safely<T>(hook: ((o: T) => void) | undefined, o: T): void {
  if (!hook) return;
  try {
    hook(o);
  } catch {
    /* observers are best effort */
  }
}

/** A node:http request listener. */
export type AdmissionListener = (req: IncomingMessage, res: ServerResponse) => void;

function sendJson(res: ServerResponse, httpStatus: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A request listener answering admission reviews with `handler`, served on the webhook's path
 * (webhook/server.ts routes by path). It answers POST and refuses other methods with 405 itself.
 *
 * Non-2xx answers carry a metav1.Status body: the API server's webhook client decodes it and
 * shows its message in the `failed calling webhook` error, which is where an operator looks.
 */
export function admissionRoute(handler: AdmissionHandler, opts: AdmissionRouteOptions = {}): AdmissionListener {
  const limit = opts.limitBytes ?? DEFAULT_LIMIT_BYTES;

  const reject = (res: ServerResponse, httpStatus: number, message: string, uid?: string): void => {
    safely(opts.onRejected, uid === undefined ? { httpStatus, message } : { httpStatus, message, uid });
    const status: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message,
      reason: statusReason(httpStatus) ?? 'BadRequest',
      code: httpStatus,
    };
    if (uid !== undefined) status.details = { uid };
    if (!res.headersSent) sendJson(res, httpStatus, status);
  };

  return (req, res) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      reject(res, 405, `${req.method} is not allowed here; the API server POSTs an ${ADMISSION_KIND} (${ADMISSION_API_VERSION})`);
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json') {
      reject(
        res,
        415,
        `Content-Type is ${contentType ? `"${contentType}"` : 'missing'}; an ${ADMISSION_KIND} must be sent as application/json`,
      );
      return;
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      req.resume(); // read and drop the body, so the connection can carry the next review
      reject(res, 415, `Content-Encoding "${encoding}" is not supported; send the ${ADMISSION_KIND} uncompressed`);
      return;
    }

    const dropped = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) dropped.abort(new Error('the API server closed the connection before the answer'));
    });
    getRawBody(req, { length: req.headers['content-length'], limit, encoding: 'utf8' }, (err, text) => {
      if (err) {
        const e = err as { status?: number; type?: string; length?: number; message?: string };
        if (e.status === 413 || e.type === 'entity.too.large') {
          const size = typeof e.length === 'number' ? `${e.length} bytes` : 'larger than that';
          reject(res, 413, `${ADMISSION_KIND} body is ${size}; the limit is ${formatBytes(limit)} (${limit} bytes)`);
        } else {
          reject(res, 400, `could not read the request body: ${e.message ?? String(err)}`);
        }
        return;
      }
      answer(text, res, dropped.signal).catch((e: unknown) => {
        // Only reachable if writing the answer itself failed; never let it escape to the process.
        reject(res, 500, `could not answer the review: ${e instanceof Error ? e.message : String(e)}`);
      });
    });
  };

  async function answer(text: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (text.trim() === '') {
      reject(res, 400, `request body is empty; expected an ${ADMISSION_KIND} (${ADMISSION_API_VERSION})`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      reject(res, 400, `request body is not valid JSON: ${(e as Error).message}`);
      return;
    }
    const parsed = parseReview(body);
    if (!parsed.ok) {
      reject(res, 400, parsed.error.message, parsed.error.uid);
      return;
    }
    const request = parsed.request;
    const started = performance.now();
    let decision: Decision;
    let failure: unknown;
    try {
      decision = await handler(request, signal);
      if (typeof decision?.allowed !== 'boolean') {
        throw new Error(`handler returned ${JSON.stringify(decision)} instead of a decision`);
      }
    } catch (e) {
      failure = e;
      const why = e instanceof Error ? e.message : String(e);
      // Denied with 500: the API server then applies the webhook's failurePolicy, and the
      // message tells the user which object we failed on.
      decision = errored(500, new Error(`rainbow webhook failed on ${describeRequest(request)}: ${why}`));
    }
    const review: AdmissionReview = {
      apiVersion: ADMISSION_API_VERSION,
      kind: ADMISSION_KIND,
      response: toAdmissionResponse(request.uid, decision),
    };
    sendJson(res, 200, review);

    const observation: ReviewObservation = {
      kind: request.kind.kind,
      operation: request.operation,
      uid: request.uid,
      dryRun: request.dryRun === true,
      allowed: decision.allowed,
      durationSeconds: (performance.now() - started) / 1000,
    };
    if (request.subResource) observation.subResource = request.subResource;
    if (request.namespace !== undefined) observation.namespace = request.namespace;
    if (request.name !== undefined) observation.name = request.name;
    if (decision.reason !== undefined) observation.reason = decision.reason;
    if (decision.status?.code !== undefined) observation.code = decision.status.code;
    if (failure !== undefined) observation.error = failure;
    safely(opts.onReview, observation);
  }
}

