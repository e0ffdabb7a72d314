// No certificate or token material in the webhook's logs: reviews whose objects carry PEM blocks
// and bearer tokens in annotations, data and kubeconfig-like fields — answered, denied, rejected
// as malformed, or failing in the handler — go through webhookApp with a logger writing to a
// buffer, and the buffer holds no '-----BEGIN' and none of the tokens.
import request from 'supertest';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import { createMetrics } from '../../../webhook/src/runtime/metrics.js';
import { webhookApp } from '../../../webhook/src/webhook/server.js';
import { cutoverHandler, deleteGuardHandler } from '../../../webhook/src/webhook/handlers.js';
import { buffer, memoryReader } from './support.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IlJhaW5ib3cifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDp3ZWIifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
const OPAQUE = 'sha256~Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0';
const BEARER = `Bearer ${OPAQUE}`;
const TOKENS = [JWT, OPAQUE];

const secrets = {
  'example.com/tls-key': PEM,
  'example.com/ca': CERT,
  'example.com/auth': BEARER,
  'example.com/sa-token': JWT,
  'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: { 'tls.key': PEM }, users: [{ user: { token: JWT, 'client-key-data': PEM } }] }),
};

function workload(kind: string, color: string) {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: `web-${color}`, namespace: 'shop', labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color }, annotations: secrets },
    spec: { replicas: 2, selector: { matchLabels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } }, template: { metadata: { labels: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color }, annotations: secrets } } },
    data: { 'tls.key': PEM, 'tls.crt': CERT, token: JWT },
    stringData: { kubeconfig: `users:\n- user:\n    token: ${JWT}\n    client-key-data: ${PEM}` },
  };
}
function service(color: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', labels: { 'rainbow.dev/app': 'web' }, annotations: { ...secrets, 'rainbow.dev/cutover': BEARER, 'rainbow.dev/max-drain': JWT } },
    spec: { selector: { 'rainbow.dev/app': 'web', 'rainbow.dev/color': color } },
  };
}
function review(path: 'svc' | 'deploy', request: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    ...envelope,
    request: {
      uid: `log-${path}`,
      kind: path === 'svc' ? { group: '', version: 'v1', kind: 'Service' } : { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: path === 'svc' ? { group: '', version: 'v1', resource: 'services' } : { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace: 'shop',
      name: 'web',
      userInfo: { username: 'alice', extra: { token: [JWT] } },
      options: { kind: 'DeleteOptions', token: JWT },
      ...request,
    },
  };
}

test('reviews carrying PEM blocks and tokens leave none of them in the log', async () => {
  const logs = buffer();
  const reader = memoryReader(() => ({
    namespacePhase: 'Active',
    services: [service('3c3fdc') as never],
    deployments: [workload('Deployment', '3c3fdc') as never],
    pods: [],
  }));
  let failing = false;
  const guard = deleteGuardHandler(reader, { onUnknown: 'deny', podTimeoutMs: 500, concurrency: 4, budgetMs: 1000 });
  const app = webhookApp({
    mutateServices: cutoverHandler(reader),
    validateDeployments: async (req) => {
      if (failing) throw new Error(`cannot decide: ${JSON.stringify(req.oldObject)} Authorization: ${BEARER}`);
      return guard(req);
    },
    metrics: createMetrics(),
    log: createLogger({ name: 'webhook', level: 'trace', destination: logs.stream as never }),
    ready: () => true,
  });
  const post = (path: string, body: unknown, contentType = 'application/json') =>
    request(app).post(path).set('Content-Type', contentType).set('Authorization', BEARER).send(typeof body === 'string' ? body : JSON.stringify(body));

  // Answered: a Service update (patched or allowed) and Deployment deletes (denied: serving; allowed).
  const svc = await post('/mutate/services', review('svc', { operation: 'UPDATE', object: service('a1b2c3'), oldObject: service('3c3fdc') })).expect(200);
  expect(svc.body.response.uid).toBe('log-svc');
  const denied = await post('/validate/deployments', review('deploy', { operation: 'DELETE', name: 'web-3c3fdc', object: null, oldObject: workload('Deployment', '3c3fdc') })).expect(200);
  expect(denied.body.response.allowed).toBe(false);
  await post('/validate/deployments', review('deploy', { operation: 'DELETE', name: 'web-a1b2c3', object: null, oldObject: workload('Deployment', 'a1b2c3') })).expect(200);
  // Rejected as malformed, with the secrets where the adapter quotes what it got.
  await post('/validate/deployments', review('deploy', { operation: 'DELETE' }, { apiVersion: PEM })).expect(400);
  await post('/validate/deployments', review('deploy', { operation: BEARER })).expect(400);
  await post('/validate/deployments', review('deploy', { operation: 'DELETE', name: { token: JWT } })).expect(400);
  await post('/validate/deployments', review('deploy', { operation: 'DELETE' }, { kind: JWT })).expect(400);
  await post('/validate/deployments', review('deploy', { operation: 'DELETE', subResource: CERT })).expect(200);
  await post('/mutate/services', `{"apiVersion": ${PEM}}`).expect(400);
  await post('/mutate/services', `{"token": "${JWT}" ${BEARER}}`).expect(400);
  await post('/mutate/services', PEM, 'text/plain').expect(415);
  // The handler fails with the object (and a header) in its error message.
  failing = true;
  const failed = await post('/validate/deployments', review('deploy', { operation: 'DELETE', object: null, oldObject: workload('Deployment', '3c3fdc') })).expect(200);
  expect(failed.body.response.status.code).toBe(500);

  const text = logs.text();
  const lines = text.trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(12); // every request was logged
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  expect(text).not.toContain('-----BEGIN');
  expect(text).not.toContain('PRIVATE KEY');
  for (const t of TOKENS) expect(text).not.toContain(t);
  // The lines still say what happened.
  expect(text).toContain('"uid":"log-svc"');
  expect(text).toContain('rejected request');
  expect(text).toContain('handler failed');
});
