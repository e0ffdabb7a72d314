// The webhook's HTTP surface with the real adapter, metrics and logger (handlers are stubs that
// decide instantly; the decisions themselves are tested in cutover.test.ts and delete-guard.test.ts).
import { Writable } from 'node:stream';
import request from 'supertest';
import { allowed, denied } from '../../../webhook/src/admission/responses.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import { createMetrics } from '../../../webhook/src/runtime/metrics.js';
import { webhookApp } from '../../../webhook/src/webhook/server.js';

const lines: string[] = [];
const log = createLogger({ name: 'test', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) as never });
let ready = true;
const app = webhookApp({
  mutateServices: () => allowed(),
  validateDeployments: () => denied('Refusing to delete Deployment shop/web-a1b2c3: 1 established connection', 403, 'connections'),
  metrics: createMetrics(),
  log,
  ready: () => ready,
});

const review = (kind: string, operation: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: `uid-${kind}-${operation}`,
    kind: { group: kind === 'Service' ? '' : 'apps', version: 'v1', kind },
    resource: { group: '', version: 'v1', resource: kind.toLowerCase() + 's' },
    operation,
    namespace: 'shop',
    name: 'web',
    userInfo: { username: 'alice' },
  },
});

test('routes reviews, echoes the UID and counts them in /metrics', async () => {
  const ok = await request(app).post('/mutate/services').send(review('Service', 'UPDATE')).expect(200);
  expect(ok.body.response).toMatchObject({ uid: 'uid-Service-UPDATE', allowed: true });
  const no = await request(app).post('/validate/deployments').send(review('Deployment', 'DELETE')).expect(200);
  expect(no.body.response).toMatchObject({ uid: 'uid-Deployment-DELETE', allowed: false, status: { code: 403 } });
  const metrics = await request(app).get('/metrics').expect(200);
  expect(metrics.text).toContain('rainbow_admission_requests_total{webhook="mutate-services",operation="UPDATE",allowed="true"} 1');
  expect(metrics.text).toContain('rainbow_admission_denials_total{webhook="validate-deployments",reason="connections"} 1');
  expect(metrics.text).toMatch(/rainbow_admission_duration_seconds_bucket\{le="0.005",webhook="validate-deployments",operation="DELETE"\} 1/);
  const logged = lines.map((l) => JSON.parse(l));
  expect(logged.find((l) => l.uid === 'uid-Deployment-DELETE')).toMatchObject({ kind: 'Deployment', namespace: 'shop', name: 'web', allowed: false, reason: 'connections' });
});

test('health and readiness; readiness drops while shutting down', async () => {
  await request(app).get('/healthz').expect(200, 'ok\n');
  await request(app).get('/readyz').expect(200);
  ready = false;
  await request(app).get('/readyz').expect(503);
  ready = true;
});

test('unknown paths are 404 with a message', async () => {
  const res = await request(app).get('/mutate').expect(404);
  expect(res.text).toContain('no such endpoint: GET /mutate');
  // The review paths are exact; the API server's ?timeout= query is not part of them.
  await request(app).post('/mutate/services/extra').send(review('Service', 'UPDATE')).expect(404);
  const ok = await request(app).post('/mutate/services?timeout=10s').send(review('Service', 'UPDATE')).expect(200);
  expect(ok.body.response).toMatchObject({ uid: 'uid-Service-UPDATE', allowed: true });
});
