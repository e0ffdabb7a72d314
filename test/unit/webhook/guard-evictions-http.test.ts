// The recorded eviction through the HTTP adapter and the guard's handler, its pod asked over
// real HTTP: the AdmissionReview answer carries 429, the code kubectl drain retries on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { admissionRoute } from '../../../webhook/src/admission/http.js';
import type { SnapshotReader } from '../../../webhook/src/webhook/reads/snapshots.js';
import { deleteGuardHandler } from '../../../webhook/src/webhook/handlers.js';

const review = JSON.parse(readFileSync(new URL('../../fixtures/admission/recorded/pod-eviction.json', import.meta.url), 'utf8'));
const NS: string = review.request.namespace;
const POD: string = review.request.name;
const labels = { 'rainbow.dev/app': 'web', 'rainbow.dev/color': '3c3fdc' };

let established = 0;
let requested: string[] = [];
const reporter = http.createServer((req, res) => {
  requested.push(req.url ?? '');
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ established, ports: { '8081': established } }));
});
let reporterPort = 0;
beforeAll(async () => {
  await new Promise<void>((r) => reporter.listen(0, '127.0.0.1', () => r()));
  reporterPort = (reporter.address() as AddressInfo).port;
});
afterAll(async () => {
  reporter.closeAllConnections();
  await new Promise((r) => reporter.close(r));
});

function reader(): SnapshotReader {
  const pod = (): V1Pod => ({
    metadata: { name: POD, namespace: NS, labels, annotations: { 'rainbow.dev/connections-port': String(reporterPort) } },
    spec: { containers: [], nodeName: 'rainbow-node' },
    status: { phase: 'Running', podIP: '127.0.0.1' },
  });
  const deployment: V1Deployment = {
    metadata: { name: 'web-3c3fdc', namespace: NS, labels, annotations: { 'rainbow.dev/drain-started': new Date().toISOString() } },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: {} },
  };
  const service = { metadata: { name: 'web', namespace: NS, labels: { 'rainbow.dev/app': 'web' } }, spec: { selector: { ...labels, 'rainbow.dev/color': 'b4d5e6' } } };
  return {
    appSnapshot: async () => ({ deployments: [], services: [] }),
    // Built per review: the reporter's port is known only once it listens.
    guardSnapshot: async () => ({ namespacePhase: 'Active', pod: pod(), appDeployments: [deployment], services: [service], pods: [], now: new Date() }),
  };
}

const app = admissionRoute(deleteGuardHandler(reader(), { onUnknown: 'deny', podTimeoutMs: 1000, concurrency: 4, budgetMs: 3000 }));
const post = () => request(app).post('/validate/deployments').set('Content-Type', 'application/json').send(JSON.stringify(review));

test('a connected pod\'s eviction is answered 429 Too Many Requests, in an HTTP 200 AdmissionReview', async () => {
  established = 2;
  requested = [];
  const res = await post();
  expect(res.status).toBe(200);
  expect(requested).toEqual(['/connections']);
  expect(res.body.response).toMatchObject({ uid: review.request.uid, allowed: false, status: { code: 429, reason: 'TooManyRequests', status: 'Failure' } });
  expect(res.body.response.status.message).toContain(`Not evicting pod ${NS}/${POD}`);
});

test('once the pod has drained, the eviction is allowed', async () => {
  established = 0;
  const res = await post();
  expect(res.body.response).toMatchObject({ uid: review.request.uid, allowed: true });
});
