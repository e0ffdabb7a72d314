// /healthz, /readyz and /metrics as the webhook and the controller configure them.
import http, { type RequestListener } from 'node:http';
import request from 'supertest';
import { Counter, Registry } from 'prom-client';
import { opsHandler } from '../../../webhook/src/runtime/ops-server.js';

const registry = new Registry();
new Counter({ name: 'rainbow_test_total', help: 'A counter for the test.', registers: [registry] }).inc(3);
let ready = false;

const webhookLike: RequestListener = opsHandler({
  registry,
  ready: () => ready,
  notReady: 'not ready: starting or shutting down',
  methods: ['GET', 'HEAD'],
  notFound: (method, path) => `no such endpoint: ${method} ${path}`,
});
const controllerLike: RequestListener = opsHandler({ registry, ready: () => ready, notReady: 'informers not synced yet', notFound: () => 'not found: try /metrics, /healthz or /readyz' });

test('/healthz answers ok as plain text, with its length', async () => {
  const res = await request(webhookLike).get('/healthz').expect(200, 'ok\n');
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(res.headers['content-length']).toBe('3');
  const head = await request(webhookLike).head('/healthz').expect(200);
  expect(head.headers['content-length']).toBe('3');
  expect(head.text).toBeUndefined();
});

test('/readyz follows ready(), with the role\'s reason on 503', async () => {
  ready = false;
  await request(webhookLike).get('/readyz').expect(503, 'not ready: starting or shutting down\n');
  await request(controllerLike).get('/readyz').expect(503, 'informers not synced yet\n');
  ready = true;
  await request(webhookLike).get('/readyz?verbose').expect(200, 'ok\n');
  await request(controllerLike).get('/readyz').expect(200, 'ok\n');
});

test('/metrics serves the registry in the Prometheus text format', async () => {
  const res = await request(controllerLike).get('/metrics').expect(200);
  expect(res.headers['content-type']).toBe(registry.contentType);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.text).toContain('# TYPE rainbow_test_total counter\nrainbow_test_total 3\n');
});

test('other paths are 404 with the role\'s message; methods outside `methods` too', async () => {
  await request(webhookLike).get('/mutate?x=1').expect(404, 'no such endpoint: GET /mutate\n');
  await request(webhookLike).post('/healthz').expect(404, 'no such endpoint: POST /healthz\n');
  await request(webhookLike).post('/metrics').expect(404, 'no such endpoint: POST /metrics\n');
  await request(controllerLike).get('/other').expect(404, 'not found: try /metrics, /healthz or /readyz\n');
  // Without `methods`, every method reaches the routes; /metrics itself refuses writes.
  await request(controllerLike).post('/healthz').expect(200, 'ok\n');
  const post = await request(controllerLike).post('/metrics').expect(405);
  expect(post.headers.allow).toBe('GET, HEAD');
});

test('works on a plain node:http server', async () => {
  const server = http.createServer(controllerLike);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect([res.status, await res.text()]).toEqual([200, 'ok\n']);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
