// The webhook's routes: the two admission endpoints of DESIGN.md, health, readiness and metrics.
// Metrics and logs attach to the admission adapter's hooks; the handlers stay unaware of both.
// Reviews go straight to the adapter (a node:http listener); express serves everything else.
import type { RequestListener } from 'node:http';
import express from 'express';
import { admissionRoute, type AdmissionHandler, type AdmissionListener } from '../admission/http.js';
import { reviewFields, type Logger } from '../runtime/log.js';
import { metricsHandler, recordAdmission, type RainbowMetrics } from '../runtime/metrics.js';

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

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    if (opts.ready()) res.type('text/plain').send('ok\n');
    else res.status(503).type('text/plain').send('not ready: starting or shutting down\n');
  });
  app.get('/metrics', metricsHandler(opts.metrics.registry));
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`no such endpoint: ${req.method} ${req.path}\n`);
  });

  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const review = reviews.get(query === -1 ? url : url.slice(0, query));
    if (review) review(req, res);
    else app(req, res);
  };
}
