// The webhook's routes: the two admission endpoints (Service cutover, delete guard), health, readiness and metrics.
// Metrics and logs attach to the admission adapter's hooks; the handlers stay unaware of both.
// Reviews go straight to the adapter; every other request goes to the ops listener.
import type { RequestListener } from 'node:http';
import { admissionRoute, type AdmissionHandler, type AdmissionListener } from '../admission/http.js';
import { reviewFields, type Logger } from '../runtime/log.js';
import { recordAdmission, type RainbowMetrics } from '../runtime/metrics.js';
import { opsHandler } from '../runtime/ops-server.js';

export interface WebhookAppOptions {
  mutateServices: AdmissionHandler;
  validateDeployments: AdmissionHandler;
  metrics: RainbowMetrics;
  log: Logger;
  /** False while starting up or draining on SIGTERM: /readyz answers 503 so no new reviews come. */
  ready: () => boolean;
}

export function webhookApp(opts: WebhookAppOptions): RequestListener {
  const route = (webhook: string, handler: AdmissionHandler) =>
    admissionRoute(handler, {
      onReview: (o) => {
        recordAdmission(opts.metrics, { webhook, operation: o.operation, allowed: o.allowed, reason: o.reason, durationSeconds: o.durationSeconds });
        const fields = { ...reviewFields(o), allowed: o.allowed, reason: o.reason, code: o.code, ms: Math.round(o.durationSeconds * 1000) };
        if (o.error) opts.log.error({ ...fields, err: o.error }, `${webhook}: handler failed`);
        else opts.log.info(fields, `${webhook}: ${o.allowed ? 'allowed' : 'denied'}`);
      },
      onRejected: (o) => opts.log.warn({ httpStatus: o.httpStatus, uid: o.uid }, `${webhook}: rejected request: ${o.message}`),
    });
  const reviews = new Map<string, AdmissionListener>([
    ['/mutate/services', route('mutate-services', opts.mutateServices)],
    ['/validate/deployments', route('validate-deployments', opts.validateDeployments)],
  ]);

  const ops = opsHandler({
    registry: opts.metrics.registry,
    ready: opts.ready,
    notReady: 'not ready: starting or shutting down',
    // The probes and Prometheus only read; any other method is not an endpoint here.
    methods: ['GET', 'HEAD'],
    notFound: (method, path) => `no such endpoint: ${method} ${path}`,
  });

  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const review = reviews.get(query === -1 ? url : url.slice(0, query));
    if (review) review(req, res);
    else ops(req, res);
  };
}
