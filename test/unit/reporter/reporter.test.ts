import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import request from 'supertest';

import {
  createReporterListener,
  readConnectionCounts,
  startReporter,
  type RunningReporter,
} from '../../../webhook/src/reporter/server.js';

const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const podProc = { tcp: fixturePath('pod-tcp'), tcp6: fixturePath('pod-tcp6') };

const running: RunningReporter[] = [];
async function start(opts: Parameters<typeof startReporter>[0]): Promise<RunningReporter> {
  const r = await startReporter({ port: 0, bind: '127.0.0.1', ...opts });
  running.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

describe('reporter with fixture /proc files', () => {
  it('GET /connections answers the counts and nothing else', async () => {
    const r = await start({ ports: [8080, 8081], podIP: '10.244.1.7', procPaths: podProc });
    const res = await request(r.url).get('/connections').expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ established: 4, ports: { '8080': 3, '8081': 1 } });
  });

  it('ignores a query string, answers HEAD without a body', async () => {
    const r = await start({ ports: [8080], podIP: '10.244.1.7', procPaths: podProc });
    await request(r.url).get('/connections?verbose=1').expect(200, { established: 3, ports: { '8080': 3 } });
    const head = await request(r.url).head('/connections').expect(200);
    expect(head.text ?? '').toBe('');
  });

  it('answers 404 on any other path and 405 on other methods', async () => {
    const r = await start({ ports: [8080], procPaths: podProc });
    for (const p of ['/', '/metrics', '/connections/', '/connectionsx', '/healthz']) {
      const res = await request(r.url).get(p).expect(404);
      expect(res.body.error).toMatch(/serves only GET \/connections/);
    }
    const res = await request(r.url).post('/connections').send('{}').expect(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    await request(r.url).delete('/connections').expect(405);
  });

  it('counts when /proc/net/tcp6 is missing (kernel without IPv6)', async () => {
    const r = await start({ ports: [8080, 8081], podIP: '10.244.1.7', procPaths: { tcp: podProc.tcp, tcp6: '/nonexistent/tcp6' } });
    await request(r.url).get('/connections').expect(200, { established: 3, ports: { '8080': 2, '8081': 1 } });
  });

  it('answers 500, never a false 0, when /proc/net/tcp cannot be read', async () => {
    const errors: Error[] = [];
    const r = await start({
      ports: [8080],
      procPaths: { tcp: '/nonexistent/tcp', tcp6: podProc.tcp6 },
      onError: (e) => errors.push(e),
    });
    const res = await request(r.url).get('/connections').expect(500);
    expect(res.body.error).toMatch(/cannot read \/nonexistent\/tcp \(ENOENT\)/);
    expect(res.body.established).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('excludes ports given by the listener options', async () => {
    const listener = createReporterListener({ ports: [8080, 9471], podIP: '10.244.1.7', procPaths: podProc, excludePorts: [9471] });
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      await request(`http://127.0.0.1:${port}`).get('/connections').expect(200, { established: 3, ports: { '8080': 3 } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses bad configuration with a message saying what to fix', async () => {
    await expect(startReporter({ ports: [], bind: '127.0.0.1', port: 0 })).rejects.toThrow(/needs the app ports/);
    await expect(startReporter({ ports: [70000], bind: '127.0.0.1', port: 0 })).rejects.toThrow(/70000 is not a TCP port/);
    await expect(startReporter({ ports: [8080], podIP: 'my-pod', bind: '127.0.0.1', port: 0 })).rejects.toThrow(
      /--pod-ip "my-pod" is not an IP address/,
    );
  });

  it('reports a port already in use', async () => {
    const r = await start({ ports: [8080], procPaths: podProc });
    await expect(startReporter({ ports: [8080], bind: '127.0.0.1', port: r.address.port })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
    );
  });

  it('readConnectionCounts reads both files', async () => {
    await expect(readConnectionCounts({ ports: [8080], procPaths: podProc })).resolves.toEqual({ established: 5, ports: { '8080': 5 } });
  });
});

describe('reporter on the real /proc/net/tcp', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A TCP server on `host`; resolves with its port and the server-side sockets it accepts. */
  async function tcpServer(host: string): Promise<{ port: number; accepted: net.Socket[] }> {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => {
      accepted.push(s);
      sockets.push(s);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return { port: (server.address() as net.AddressInfo).port, accepted };
  }

  async function connect(port: number, host: string): Promise<net.Socket> {
    const s = net.connect(port, host);
    sockets.push(s);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    return s;
  }

  async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('counts real connections to a 127.0.0.1 server, and 0 once they close', async () => {
    const app = await tcpServer('127.0.0.1');
    const clients = [await connect(app.port, '127.0.0.1'), await connect(app.port, '127.0.0.1')];
    await waitFor(async () => app.accepted.length === 2, 'the server to accept both clients');

    const r = await start({ ports: [app.port], podIP: '127.0.0.1' });
    const res = await request(r.url).get('/connections').expect(200);
    expect(res.body).toEqual({ established: 2, ports: { [String(app.port)]: 2 } });

    for (const c of clients) c.destroy();
    for (const s of app.accepted) s.destroy();
    const counted = async (): Promise<number> => (await request(r.url).get('/connections').expect(200)).body.established as number;
    await waitFor(async () => (await counted()) === 0, 'the closed connections to leave ESTABLISHED');
    expect(await counted()).toBe(0);
  });

  it('counts an IPv4 client of an IPv6 socket (::ffff:127.0.0.1 in /proc/net/tcp6)', async () => {
    let app: { port: number; accepted: net.Socket[] };
    try {
      app = await tcpServer('::ffff:127.0.0.1');
    } catch {
      return; // no IPv6 in this kernel: nothing to test
    }
    await connect(app.port, '127.0.0.1');
    await waitFor(async () => app.accepted.length === 1, 'the server to accept the client');
    const r = await start({ ports: [app.port], podIP: '127.0.0.1' });
    await request(r.url).get('/connections').expect(200, { established: 1, ports: { [String(app.port)]: 1 } });
  });

  it('never counts its own port, though the asking connection is ESTABLISHED on it', async () => {
    // Learn a free port, then run the reporter there with that port among the "app" ports.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const r = await start({ port, ports: [port], podIP: '127.0.0.1' });
    await request(r.url).get('/connections').expect(200, { established: 0, ports: {} });
  });
});

describe('reading /proc in chunks', () => {
  it('counts a table larger than one read (lines split across 64 KiB chunks) exactly as the whole text', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { countEstablishedInText } = await import('../../../webhook/src/reporter/proc-net-tcp.js');
    const { readConnectionCounts } = await import('../../../webhook/src/reporter/server.js');
    const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    for (let i = 0; i < 5000; i++) {
      const local = i % 7 === 0 ? `0500000A:${hex4(8081)}` : `0100007F:${hex4(30000 + i)}`;
      lines.push(`${String(i).padStart(4)}: ${local} 0100007F:${hex4(40000 + (i % 9000))} ${i % 3 === 0 ? '01' : '06'} 00000000:00000000 00:00000000 00000000  1000        0 ${i} 1 0000000000000000 20 4 30 10 -1`);
    }
    const text = lines.join('\n') + '\n';
    expect(text.length).toBeGreaterThan(5 * 64 * 1024);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-proc-'));
    writeFileSync(path.join(dir, 'tcp'), text);
    const opts = { ports: [8080, 8081], podIP: '10.0.0.5' };
    const whole = countEstablishedInText(text, opts);
    expect(whole.established).toBeGreaterThan(200);
    expect(await readConnectionCounts({ ...opts, procPaths: { tcp: path.join(dir, 'tcp'), tcp6: path.join(dir, 'missing') } })).toEqual(whole);
  });
});

describe("the reporter's module graph", () => {
  // On Node 22 an ES import of node:http loads undici (memory, and WebAssembly that --jitless
  // forbids); Node 20 does not, so the check is on the sources the reporter loads.
  const srcDir = fileURLToPath(new URL('../../../webhook/src/', import.meta.url));
  function graph(entries: string[]): Map<string, string> {
    const seen = new Map<string, string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      const source = readFileSync(file, 'utf8');
      seen.set(file, source);
      // Static value imports and re-exports; cli.ts reaches reporter/main.ts by import().
      for (const m of source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)\.js';/gm)) {
        visit(path.resolve(path.dirname(file), `${m[1]}.ts`));
      }
    };
    for (const e of entries) visit(path.join(srcDir, e));
    return seen;
  }
  const files = graph(['cli.ts', 'reporter/main.ts']);

  it('is the CLI, the reporter command and the modules they import, nothing more', () => {
    expect([...files.keys()].map((f) => path.relative(srcDir, f)).sort()).toEqual([
      'cli.ts',
      'domain/contract.ts',
      'domain/durations.ts',
      'net/ip.ts',
      'reporter/main.ts',
      'reporter/proc-net-tcp.ts',
      'reporter/server.ts',
      'runtime/flags.ts',
      'runtime/listen.ts',
      'runtime/server-limits.ts',
      'runtime/shutdown.ts',
    ]);
  });

  it('never imports node:http or anything that loads undici as a value, nor uses fetch or WebSocket', () => {
    for (const [file, source] of files) {
      const valueImports = [...source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'([^']+)';/gm)].map((m) => m[1]);
      expect({ file, imports: valueImports.filter((s) => /^(node:)?(https?|http2)$|^undici/.test(s!)) }).toEqual({ file, imports: [] });
      expect({ file, uses: source.match(/\bfetch\(|new (WebSocket|EventSource)\b|import\('node:https?'\)/g) }).toEqual({ file, uses: null });
    }
    const reporter = files.get(path.join(srcDir, 'reporter/server.ts'))!;
    expect(reporter).toContain("process.getBuiltinModule('node:http')");
    expect(reporter).toContain("process.getBuiltinModule('node:fs')");
  });
});
