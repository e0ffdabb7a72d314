// Prometheus metrics of the webhook and controller, on a Registry of our own: the global
// default registry is shared by every library in the process, and tests need fresh metrics.

import type { IncomingMessage, ServerResponse } from 'node:http';

import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Admission latency buckets, in seconds (the Prometheus base unit), spaced for ms-scale
 * answers: most reviews take 1-20 ms; the delete guard asks pods and may approach its
 * per-pod timeout (2 s) within the API server's webhook timeout (≤ 10 s here, 30 s max).
 */
export const ADMISSION_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RainbowMetrics {
  registry: Registry;
  /** rainbow_admission_requests_total{webhook, operation, allowed} */
  admissionRequests: Counter<'webhook' | 'operation' | 'allowed'>;
  /** rainbow_admission_duration_seconds{webhook, operation} */
  admissionDuration: Histogram<'webhook' | 'operation'>;
  /** rainbow_admission_denials_total{webhook, reason} */
  denials: Counter<'webhook' | 'reason'>;
  /** rainbow_reporter_errors_total{reason}: pods whose reporter could not be asked. */
  reporterErrors: Counter<'reason'>;
}

export interface CreateMetricsOptions {
  /** Also collect Node process metrics (CPU, memory, event loop lag) into the registry. Default false. */
  processMetrics?: boolean;
}

export function createMetrics(opts: CreateMetricsOptions = {}): RainbowMetrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'rainbow_' });
  return {
    registry,
    admissionRequests: new Counter({
      name: 'rainbow_admission_requests_total',
      help: 'AdmissionReviews answered, by webhook, operation and whether they were allowed.',
      labelNames: ['webhook', 'operation', 'allowed'] as const,
      registers: [registry],
    }),
    admissionDuration: new Histogram({
      name: 'rainbow_admission_duration_seconds',
      help: 'Time from receiving an AdmissionReview to sending the answer.',
      labelNames: ['webhook', 'operation'] as const,
      buckets: ADMISSION_LATENCY_BUCKETS,
      registers: [registry],
    }),
    denials: new Counter({
      name: 'rainbow_admission_denials_total',
      help: 'AdmissionReviews denied, by webhook and reason (e.g. serving, connections, unknown-pods).',
      labelNames: ['webhook', 'reason'] as const,
      registers: [registry],
    }),
    reporterErrors: new Counter({
      name: 'rainbow_reporter_errors_total',
      help: 'Pods whose connection reporter could not be asked, by reason (timeout, refused, bad-status, ...).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export interface AdmissionOutcome {
  /** Which endpoint: e.g. "mutate-services", "validate-deployments". Keep to a fixed set. */
  webhook: string;
  /** CREATE, UPDATE, DELETE, CONNECT. */
  operation: string;
  allowed: boolean;
  /** Why it was denied (a fixed word, not a message); counted only when allowed is false. */
  reason?: string;
  durationSeconds: number;
}

/** Count one answered review: request, latency and (if denied) the denial reason. */
export function recordAdmission(m: RainbowMetrics, o: AdmissionOutcome): void {
  m.admissionRequests.inc({ webhook: o.webhook, operation: o.operation, allowed: String(o.allowed) });
  m.admissionDuration.observe({ webhook: o.webhook, operation: o.operation }, o.durationSeconds);
  if (!o.allowed) m.denials.inc({ webhook: o.webhook, reason: o.reason ?? 'unspecified' });
}

/** GET /metrics in the Prometheus text format, as a node:http listener (runtime/ops-server.ts routes to it). */
export function metricsHandler(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end(`method ${req.method} not allowed on /metrics; use GET\n`);
      return;
    }
    registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`collecting metrics failed: ${err.message}\n`);
      });
  };
}
