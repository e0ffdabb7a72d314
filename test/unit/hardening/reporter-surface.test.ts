// The reporter exposes counts and nothing else: whatever method, path and headers arrive, only
// GET/HEAD /connections answers 200, with exactly {established, ports} and numbers only;
// everything else is 404 or 405 (or the HTTP parser's 400), and no answer carries file paths or
// /proc content.
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { createReporterListener } from '../../../webhook/src/reporter/server.js';
import { closeServer, listen } from './support.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../reporter/fixtures/${name}`, import.meta.url));
const procPaths = { tcp: fixture('pod-tcp'), tcp6: fixture('pod-tcp6') };
const procText = readFileSync(procPaths.tcp, 'utf8');
// Tokens of the /proc content (addresses, inodes, the header) that must never be echoed.
const procTokens = [...new Set(procText.split(/\s+/).filter((t) => t.length >= 8 && !/^0+$/.test(t)))];

const server = http.createServer(createReporterListener({ ports: [8080, 8081], podIP: '10.244.1.7', procPaths }));
let port = 0;
beforeAll(async () => {
  port = await listen(server);
});
afterAll(async () => {
  server.closeAllConnections();
  await closeServer(server);
});

function send(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

function expectNoLeak(body: string, requestedPath: string): void {
  for (const secret of [procPaths.tcp, procPaths.tcp6, fixture(''), process.cwd(), 'node_modules', '/proc/net']) {
    // A 404 names the path asked for; that echo is not a leak, anything else is.
    if (!requestedPath.includes(secret)) expect(body).not.toContain(secret);
  }
  for (const t of procTokens) if (!requestedPath.includes(t)) expect(body).not.toContain(t);
  expect(body).not.toMatch(/\n\s+at /); // no stack traces
}

const methods = http.METHODS.filter((m) => m !== 'CONNECT');
const pathArb = fc.oneof(
  fc.constantFrom('/connections', '/connections?x=1', '/connections/', '//connections', '/Connections', '/connections/../connections', '/connections%00', '/%2e%2e/%2e%2e/proc/net/tcp', '/../../../../proc/net/tcp', '/proc/net/tcp', '/metrics', '/', '/debug/pprof', '/.env', '/connections#frag', '/connections?../../etc/passwd'),
  fc.webPath().map((p) => p || '/'),
  fc.tuple(fc.webPath(), fc.webQueryParameters()).map(([p, q]) => `${p || '/'}?${q}`),
  fc.string({ unit: 'grapheme' }).map((s) => `/${encodeURIComponent(s)}`),
);
const headersArb = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((h) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(h)),
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  { maxKeys: 4 },
);

test('random methods, paths and headers: counts only on GET/HEAD /connections, 404/405 elsewhere, no leaks', async () => {
  let ok = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.constantFrom('GET', 'HEAD'), fc.constantFrom(...methods)), fc.oneof(fc.constant('/connections'), pathArb), headersArb, async (method, path, headers) => {
      const res = await send(method, path, headers);
      const route = path.split('?', 1)[0];
      if (route === '/connections' && (method === 'GET' || method === 'HEAD')) {
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/json');
        if (method === 'GET') {
          const body = JSON.parse(res.body) as Record<string, unknown>;
          expect(Object.keys(body).sort()).toEqual(['established', 'ports']);
          expect(Number.isInteger(body.established)).toBe(true);
          const ports = body.ports as Record<string, unknown>;
          for (const [k, v] of Object.entries(ports)) {
            expect(k).toMatch(/^\d+$/);
            expect(Number.isInteger(v)).toBe(true);
          }
          expect(body).toEqual({ established: 4, ports: { '8080': 3, '8081': 1 } });
        } else {
          expect(res.body).toBe('');
        }
        ok++;
      } else {
        expect([404, 405]).toContain(res.status);
        expect(res.status).toBe(route === '/connections' ? 405 : 404);
        expectNoLeak(res.body, decodeURIComponentSafe(path) + path);
        refused++;
      }
    }),
    { numRuns: 300 },
  );
  expect(ok).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(100);
}, 60_000);

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

test('raw garbage on the socket: a 400 from the parser or a close, never counts or /proc content', async () => {
  const raw = fc.oneof(
    fc.string({ unit: 'binary' }).map((s) => `${s}\r\n\r\n`),
    fc.constantFrom('GET /connections HTTP/9.9\r\n\r\n', 'BREW /connections HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /../../proc/net/tcp HTTP/1.1\r\nHost: x\r\n\r\n', 'GET  HTTP/1.1\r\n\r\n', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'),
  );
  await fc.assert(
    fc.asyncProperty(raw, async (text) => {
      const answer = await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        let got = '';
        s.on('data', (c) => (got += c.toString('latin1')));
        s.on('close', () => resolve(got));
        s.on('error', () => undefined);
        s.setTimeout(1_000, () => s.destroy());
        s.end(text, 'latin1');
      });
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) expect(['400', '404', '405', '505']).toContain(status);
      expectNoLeak(answer, text);
    }),
    { numRuns: 60 },
  );
}, 60_000);
