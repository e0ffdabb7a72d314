import http from 'node:http';
import net from 'node:net';

import { askPod, askPods, type PodReport, type PodTarget } from '../../../webhook/src/net/ask-pods.js';

// Test servers on 127.0.0.1 that track their sockets, so every test can check none linger
// and teardown can close everything.
interface TestServer {
  port: number;
  target(name: string, path?: string): PodTarget;
  /** Sockets currently open on the server side. */
  open(): number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(server: net.Server): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    // Read (and drop) what arrives, so a raw server notices when the client closes.
    if (!(server instanceof http.Server)) s.resume();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const ts: TestServer = {
    port,
    target: (name, path = '/connections') => ({ name, ip: '127.0.0.1', port, path }),
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  servers.push(ts);
  return ts;
}

function httpServer(handler: http.RequestListener): Promise<TestServer> {
  return serve(http.createServer(handler));
}

const answering = (body: string, status = 200, delayMs = 0): http.RequestListener => (_req, res) => {
  setTimeout(() => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  }, delayMs);
};

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('askPods', () => {
  it('returns the counts of a pod that answers', async () => {
    const seen: { url?: string; connection?: string }[] = [];
    const s = await httpServer((req, res) => {
      seen.push({ url: req.url, connection: req.headers.connection });
      answering('{"established": 3, "ports": {"8080": 2, "8081": 1}}')(req, res);
    });
    const [report] = await askPods([s.target('web-abc123-x')]);
    expect(seen).toEqual([{ url: '/connections', connection: 'close' }]);
    expect(report).toEqual({ name: 'web-abc123-x', ok: true, established: 3, ports: { '8080': 2, '8081': 1 } });
    await eventually(() => s.open() === 0, 'the client socket to close');
  });

  it('accepts an answer without per-port counts (an app serving the endpoint itself)', async () => {
    const s = await httpServer(answering('{"established": 0}'));
    await expect(askPod(s.target('p'))).resolves.toEqual({ name: 'p', ok: true, established: 0, ports: {} });
  });

  it('reports a timeout inside its budget when a pod accepts and never answers', async () => {
    const s = await serve(net.createServer(() => {})); // accepts, reads nothing, says nothing
    const started = Date.now();
    const [report] = await askPods([s.target('stuck')], { timeoutMs: 200 });
    const elapsed = Date.now() - started;
    expect(report).toMatchObject({ name: 'stuck', ok: false, reason: 'timeout' });
    expect((report as { error: string }).error).toMatch(/^pod stuck: timeout after 200 ms asking http:\/\/127\.0\.0\.1:\d+\/connections/);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    await eventually(() => s.open() === 0, 'the timed-out socket to be closed by the client');
  });

  it('reports a refused connection', async () => {
    const port = await freePort();
    const [report] = await askPods([{ name: 'gone', ip: '127.0.0.1', port, path: '/connections' }]);
    expect(report).toMatchObject({ name: 'gone', ok: false, reason: 'refused' });
    expect((report as { error: string }).error).toMatch(/connection refused at 127\.0\.0\.1:\d+ \(is the reporter sidecar running/);
  });

  it('reports a bad status with a snippet of the body', async () => {
    const s = await httpServer(answering('{"error":"cannot read /proc/net/tcp (EACCES)"}', 500));
    const report = await askPod(s.target('p'));
    expect(report).toMatchObject({ ok: false, reason: 'bad-status' });
    expect((report as { error: string }).error).toMatch(/bad status 500 from http:\/\/127\.0\.0\.1:\d+\/connections: .*EACCES/);
  });

  it('reports a malformed body', async () => {
    const s = await httpServer(answering('established=3'));
    const report = await askPod(s.target('p'));
    expect(report).toMatchObject({ ok: false, reason: 'bad-body' });
    expect((report as { error: string }).error).toMatch(/bad JSON from .*: established=3/);
  });

  it('reports JSON of the wrong shape', async () => {
    for (const body of ['[1]', '{"established": -1}', '{"established": "3"}', '{"established": 1, "ports": {"8080": 1.5}}', 'null']) {
      const s = await httpServer(answering(body));
      const report = await askPod(s.target('p'));
      expect(report).toMatchObject({ ok: false, reason: 'bad-body' });
      expect((report as { error: string }).error).toMatch(/bad answer from/);
    }
  });

  it('refuses an oversized answer', async () => {
    const s = await httpServer(answering(`{"established": 1, "pad": "${'x'.repeat(100_000)}"}`));
    await expect(askPod(s.target('p'))).resolves.toMatchObject({ ok: false, reason: 'bad-body' });
  });

  it('reports a pod without an IP without trying', async () => {
    await expect(askPod({ name: 'pending', ip: '', port: 9471, path: '/connections' })).resolves.toMatchObject({
      ok: false,
      reason: 'no-ip',
      error: expect.stringMatching(/pod pending: has no IP yet/),
    });
  });

  it('never throws: one report per target, in order, failures and answers mixed', async () => {
    const good = await httpServer(answering('{"established": 1, "ports": {"8080": 1}}'));
    const bad = await httpServer(answering('nope'));
    const refused = await freePort();
    const targets: PodTarget[] = [
      good.target('a'),
      bad.target('b'),
      { name: 'c', ip: '127.0.0.1', port: refused, path: '/connections' },
      { name: 'd', ip: '', port: 9471, path: '/connections' },
      good.target('e'),
    ];
    const reports = await askPods(targets, { concurrency: 2 });
    expect(reports.map((r) => [r.name, r.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
      ['d', false],
      ['e', true],
    ]);
  });

  it('keeps at most `concurrency` requests in flight (50 targets, 4 at a time)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let served = 0;
    const s = await httpServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        served++;
        answering(`{"established": ${served}, "ports": {}}`)(req, res);
      }, 15);
    });
    const targets = Array.from({ length: 50 }, (_, i) => s.target(`pod-${i}`));
    const reports = await askPods(targets, { concurrency: 4, timeoutMs: 5000 });
    expect(reports).toHaveLength(50);
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(reports.map((r) => r.name)).toEqual(targets.map((t) => t.name));
    expect(served).toBe(50);
    expect(maxInFlight).toBe(4);
    await eventually(() => s.open() === 0, 'all client sockets to close');
  });

  it('stops on the caller signal: pods not yet answered report aborted', async () => {
    const s = await serve(net.createServer(() => {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('webhook deadline reached')), 100);
    const started = Date.now();
    const reports: PodReport[] = await askPods(
      Array.from({ length: 4 }, (_, i) => s.target(`p${i}`)),
      { concurrency: 2, timeoutMs: 5000, signal: controller.signal },
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reports.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['aborted', 'aborted', 'aborted', 'aborted']);
    expect((reports[0] as { error: string }).error).toMatch(/aborted: webhook deadline reached/);
    expect((reports[3] as { error: string }).error).toMatch(/not asked: webhook deadline reached/);
    await eventually(() => s.open() === 0, 'aborted sockets to close');
  });

  it('asks an IPv6 pod address and tolerates a path without a leading slash', async () => {
    // ::ffff:127.0.0.1 is an IPv6 literal that still reaches the 127.0.0.1 listener.
    const s = await httpServer(answering('{"established": 2, "ports": {"8080": 2}}'));
    const report = await askPod({ name: 'v6', ip: '::ffff:127.0.0.1', port: s.port, path: 'connections' });
    expect(report).toMatchObject({ ok: true, established: 2 });
    const refused = await askPod({ name: 'v6', ip: '::ffff:127.0.0.1', port: await freePort(), path: '/connections' });
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/refused at \[::ffff:127\.0\.0\.1\]:\d+/) });
  });

  it('rejects only invalid options', async () => {
    await expect(askPods([], { concurrency: 0 })).rejects.toThrow(/concurrency must be an integer ≥ 1, got 0/);
    await expect(askPods([], { timeoutMs: Number.NaN })).rejects.toThrow(/timeoutMs must be a positive number/);
    await expect(askPods([])).resolves.toEqual([]);
  });

  it('leaves no timers behind after answers arrive well before the timeout', async () => {
    const s = await httpServer(answering('{"established": 0, "ports": {}}'));
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await askPods(Array.from({ length: 10 }, (_, i) => s.target(`p${i}`)), { timeoutMs: 60_000 });
    // The test server's own keep-alive timers may outlive the answers by a moment; a 60 s timeout
    // of askPods left behind would not.
    await eventually(() => timers() <= before, 'no more timers than before askPods');
  });
});
