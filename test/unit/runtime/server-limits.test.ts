// The limits of every server of rainbow acting on real sockets: a client that trickles its headers,
// one whose body never ends and one that says nothing are dropped, one connection too many is
// closed at accept and logged once, and the server answers a well-behaved client all the while.
// The limits are shortened so that the test takes seconds; the shipped ones are in each role.
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { Registry } from 'prom-client';

import { startMetricsServer } from '../../../webhook/src/controller/metrics.js';
import { startReporter } from '../../../webhook/src/reporter/server.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import { checkingIntervalMs, serverOptions, type DroppedConnections, type ServerLimits } from '../../../webhook/src/runtime/server-limits.js';
import { startHttps, webhookLimits } from '../../../webhook/src/webhook/https.js';
import { generateServingCertificate } from '../../../webhook/src/webhook/tls/self-signed.js';
import { endlessBody, silent, trickleHeaders, type Connect } from '../../support/slow-clients.js';

const limits: ServerLimits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 5_000, maxConnections: 4, reason: 'test cap' };
/** When a dropped client must be gone by: its timeout, one check of the connections, and slack for a loaded machine. */
const by = (timeoutMs: number) => timeoutMs + checkingIntervalMs(limits) + 2_000;

interface Target {
  name: string;
  connect: Connect;
  /** A well-behaved request's status. */
  get(path: string): Promise<number>;
  /** A path whose handler reads a body. */
  bodyPath: string;
  dropped: DroppedConnections[];
  close(): Promise<void>;
}

function plainGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

async function webhookTarget(): Promise<Target> {
  const pems = await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const dropped: DroppedConnections[] = [];
  const log = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) as never });
  log.warn = ((obj: DroppedConnections) => dropped.push(obj)) as never;
  const server = await startHttps(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    },
    { port: 0, bind: '127.0.0.1', pair: { cert: pems.cert, key: pems.key }, log, limits: { ...webhookLimits(limits.requestTimeoutMs, limits.maxConnections), headersTimeoutMs: limits.headersTimeoutMs } },
  );
  const port = Number(new URL(server.url).port);
  return {
    name: 'webhook (HTTPS)',
    connect: () => tls.connect({ host: '127.0.0.1', port, ca: pems.caCert }),
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = tls.connect({ host: '127.0.0.1', port, ca: pems.caCert }, () => req.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (text += d));
        req.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)));
        req.on('error', reject);
      }),
    bodyPath: '/mutate/services',
    dropped,
    close: () => server.close(0),
  };
}

async function reporterTarget(): Promise<Target> {
  const dropped: DroppedConnections[] = [];
  const r = await startReporter({ port: 0, bind: '127.0.0.1', ports: [8081], limits, onDropped: (d) => dropped.push(d) });
  const port = r.address.port;
  return { name: 'reporter', connect: () => net.connect({ host: '127.0.0.1', port }), get: (p) => plainGet(port, p), bodyPath: '/connections', dropped, close: () => r.close() };
}

async function controllerTarget(): Promise<Target> {
  const dropped: DroppedConnections[] = [];
  const m = await startMetricsServer({ registry: new Registry(), port: 0, bind: '127.0.0.1', ready: () => true, limits, onDropped: (d) => dropped.push(d) });
  const port = Number(new URL(m.url).port);
  return { name: 'controller metrics', connect: () => net.connect({ host: '127.0.0.1', port }), get: (p) => plainGet(port, p), bodyPath: '/metrics', dropped, close: () => m.close() };
}

const answerPath: Record<string, string> = { 'webhook (HTTPS)': '/healthz', reporter: '/connections', 'controller metrics': '/healthz' };

describe.each([
  ['webhook (HTTPS)', webhookTarget],
  ['reporter', reporterTarget],
  ['controller metrics', controllerTarget],
])('%s', (name, start) => {
  let t: Target;
  beforeAll(async () => {
    t = await start();
  }, 30_000);
  afterAll(() => t.close());

  it('drops a client that trickles its headers, a body that never ends and a silent one, and answers others meanwhile', async () => {
    const slow = [
      trickleHeaders(t.connect, { everyMs: 100, maxMs: 10_000 }),
      endlessBody(t.connect, { path: t.bodyPath, everyMs: 100, maxMs: 10_000 }),
      silent(t.connect, { maxMs: 10_000 }),
    ];
    expect(await t.get(answerPath[name]!)).toBe(200);
    const [headers, body, quiet] = await Promise.all(slow);
    expect(headers.closedAfterMs).toBeLessThan(by(limits.headersTimeoutMs));
    expect(headers.received === '' || headers.received.startsWith('HTTP/1.1 408')).toBe(true);
    expect(body.closedAfterMs).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
    expect(body.closedAfterMs).toBeLessThan(by(limits.requestTimeoutMs));
    expect(quiet.closedAfterMs).toBeLessThan(by(limits.headersTimeoutMs));
    expect(await t.get(answerPath[name]!)).toBe(200);
  }, 20_000);

  it('closes one connection too many at accept, says why once, and serves again when one closes', async () => {
    const held = await Promise.all(
      Array.from({ length: limits.maxConnections }, () => new Promise<net.Socket>((resolve) => {
        const s = t.connect();
        s.once(s instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => resolve(s));
        s.on('error', () => undefined);
      })),
    );
    const extra = await Promise.all([silent(t.connect, { maxMs: 5_000 }), silent(t.connect, { maxMs: 5_000 })]);
    for (const e of extra) expect(e.closedAfterMs).toBeLessThan(1_000);
    expect(t.dropped.length).toBe(1);
    expect(t.dropped[0]).toMatchObject({ dropped: 1, maxConnections: limits.maxConnections, remoteAddress: '127.0.0.1' });
    expect(t.dropped[0]!.reason).toMatch(/\w/);
    held.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await t.get(answerPath[name]!)).toBe(200);
    for (const s of held) s.destroy();
  }, 20_000);
});

test('headers must come in before the whole request, and are checked several times per timeout', () => {
  expect(() => serverOptions({ ...limits, headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 })).toThrow(/headersTimeoutMs 2000 is longer than requestTimeoutMs 1000/);
  expect(serverOptions(limits).connectionsCheckingInterval).toBeLessThanOrEqual(limits.headersTimeoutMs / 4);
  expect(webhookLimits(35_000, 1024)).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 35_000 });
  expect(webhookLimits(3_000, 8).headersTimeoutMs).toBe(3_000);
});
