// Every API request made through apiClient has a deadline: a server that accepts the connection
// and never answers (an API server caught half-way through shutting down) cannot hold a caller
// forever.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { apiClient, apiErrorMessage } from '../../../webhook/src/kube/client.js';

let server: http.Server;
let kc: KubeConfig;
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/namespaces/quick')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'quick' } }));
    } else held.push(res); // accepts, reads, never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(async () => {
  for (const r of held) r.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('answers as makeApiClient does when the server answers', async () => {
  const ns = await apiClient(kc, CoreV1Api, 1000).readNamespace({ name: 'quick' });
  expect(ns.metadata?.name).toBe('quick');
});

test('gives up after its timeout when the server never answers, with a message that says so', async () => {
  const started = Date.now();
  const err = await apiClient(kc, CoreV1Api, 300)
    .readNamespace({ name: 'hangs' })
    .then(() => undefined, (e: unknown) => e);
  const took = Date.now() - started;
  expect(err).toBeDefined();
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(5000);
  expect(apiErrorMessage(err)).toBe('no answer from the API server before the request deadline (the request was aborted)');
});

