// The dashboard's HTTP edge: routes, content types, the Content-Security-Policy, the event stream's
// framing, the chart library served from node_modules, and the errors a user sees.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import request from 'supertest';
import { DashboardFeed } from '../../../webhook/src/status/dashboard/feed.js';
import { CONTENT_SECURITY_POLICY, createDashboardServer, hostAllowed, sseFrame } from '../../../webhook/src/status/dashboard/server.js';
import { listenErrorMessage, startDashboard } from '../../../webhook/src/status/dashboard/start.js';
import { DASHBOARD_JS } from '../../../webhook/src/status/dashboard/client.js';
import { NS, fakeReport } from './dashboard-fixture.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const nodeModules = createRequire(import.meta.url);

async function feedWithData() {
  let t = T0;
  const feed = new DashboardFeed({ collect: async () => fakeReport(new Date((t += 2000)), { serving: 2, old: 1 }), intervalMs: 2000, scope: `namespace ${NS}` });
  await feed.tick();
  return feed;
}

/** The first `frames` blank-line-separated frames of GET /api/events, read from a real socket. */
function readEvents(server: http.Server, frames: number, onOpen?: () => void): Promise<{ headers: http.IncomingHttpHeaders; frames: string[] }> {
  return new Promise((resolve, reject) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = http.get({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
        let buf = '';
        onOpen?.();
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          const got = buf.split('\n\n').slice(0, -1);
          if (got.length >= frames) {
            req.destroy();
            resolve({ headers: res.headers, frames: got.slice(0, frames) });
          }
        });
      });
      req.on('error', reject);
    });
  });
}

describe('dashboard HTTP server', () => {
  let feed: DashboardFeed;
  let app: ReturnType<typeof createDashboardServer>;
  beforeEach(async () => {
    feed = await feedWithData();
    app = createDashboardServer(feed, { bind: '127.0.0.1' });
  });
  afterEach(async () => {
    app.closeStreams();
    await new Promise<void>((r) => (app.server.listening ? app.server.close(() => r()) : r()));
  });

  it('serves the page, its script and style sheet with a strict Content-Security-Policy', async () => {
    const page = await request(app.server).get('/').expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toMatch(/^default-src 'self';/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // No inline script or style, no other origin: everything the page loads is one of these routes.
    expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle="|\son\w+="|https?:\/\//);
    const loaded = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== '#apps');
    expect(loaded.sort()).toEqual(['/dashboard.css', '/dashboard.js', '/favicon.svg', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']);
    for (const [path, type] of [
      ['/dashboard.js', 'text/javascript; charset=utf-8'],
      ['/dashboard.css', 'text/css; charset=utf-8'],
      ['/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const r = await request(app.server).get(path).expect(200);
      expect(r.headers['content-type']).toBe(type);
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('serves uPlot byte for byte from the installed uplot package', async () => {
    const js = await request(app.server).get('/vendor/uPlot.iife.min.js').buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((js.body as Buffer).equals(readFileSync(nodeModules.resolve('uplot/dist/uPlot.iife.min.js')))).toBe(true);
    const css = await request(app.server).get('/vendor/uPlot.min.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.text).toBe(readFileSync(nodeModules.resolve('uplot/dist/uPlot.min.css'), 'utf8'));
  });

  it('the page script is valid JavaScript and builds no HTML from strings', () => {
    expect(() => new vm.Script(DASHBOARD_JS, { filename: 'dashboard.js' })).not.toThrow();
    expect(DASHBOARD_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('GET /api/snapshot is the current snapshot as JSON', async () => {
    const r = await request(app.server).get('/api/snapshot').expect(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body.kind).toBe('DashboardSnapshot');
    expect(r.body.apps.map((a: { key: string }) => a.key)).toEqual([`${NS}/api`, `${NS}/web`]);
  });

  it('GET /api/series takes a window and an app, and refuses an unknown window', async () => {
    const r = await request(app.server).get(`/api/series?window=1h&app=${encodeURIComponent(`${NS}/web`)}`).expect(200);
    expect(r.body.window).toBe('1h');
    expect(Object.keys(r.body.apps)).toEqual([`${NS}/web`]);
    const bad = await request(app.server).get('/api/series?window=2h').expect(400);
    expect(bad.body.error).toBe('window must be one of 5m, 15m, 1h, 6h, all, got "2h"');
  });

  it('GET /api/events is a server-sent event stream: the current snapshot at once, then each new one', async () => {
    const { headers, frames } = await readEvents(app.server, 3, () => void feed.tick());
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(frames[0]).toBe('retry: 2000');
    for (const f of frames.slice(1)) expect(f).toMatch(/^data: \{.*\}$/);
    const [first, second] = frames.slice(1).map((f) => JSON.parse(f.slice('data: '.length)) as { generatedAt: string });
    expect(Date.parse(second!.generatedAt) - Date.parse(first!.generatedAt)).toBe(2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(app.streamCount()).toBe(0); // the client went: its listener with it
  });

  it('an SSE frame is one data line however the JSON looks', () => {
    expect(sseFrame({ message: 'a\nb\r\n\nc' })).toBe('data: {"message":"a\\nb\\r\\n\\nc"}\n\n');
  });

  it('anything else is 404, writes are 405, HEAD has no body', async () => {
    const r = await request(app.server).get('/nothing').expect(404);
    expect(r.text).toBe('nothing at /nothing; the dashboard is at /\n');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const post = await request(app.server).post('/api/snapshot').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await request(app.server).head('/api/snapshot').expect(200);
    expect(head.text ?? '').toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });

  it('answers only to the names of the address it listens on, so another site cannot read it through DNS', async () => {
    const r = await request(app.server).get('/api/snapshot').set('Host', 'evil.example:3100').expect(421);
    expect(r.text).toMatch(/^Host evil\.example:3100 is not this dashboard's address/);
    expect(hostAllowed('localhost:3100', '127.0.0.1')).toBe(true);
    expect(hostAllowed('127.0.0.1:3100', '127.0.0.1')).toBe(true);
    expect(hostAllowed('[::1]:3100', '::1')).toBe(true);
    expect(hostAllowed('10.1.2.3:3100', '10.1.2.3')).toBe(true);
    expect(hostAllowed('rebind.example', '127.0.0.1')).toBe(false);
    expect(hostAllowed(undefined, '127.0.0.1')).toBe(false);
    expect(hostAllowed('anything', '0.0.0.0')).toBe(true);
  });
});

describe('starting the dashboard', () => {
  it('a port in use says so and what to pass instead', async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const { port } = busy.address() as AddressInfo;
    try {
      await expect(startDashboard({ collect: async () => fakeReport(new Date(T0), { serving: 1 }), port, bind: '127.0.0.1', intervalMs: 2000, scope: '' })).rejects.toThrow(
        `--port ${port} is in use on 127.0.0.1 (another dashboard or program listens there); pass --port N, or --port 0 for any free port`,
      );
    } finally {
      busy.close();
    }
    expect(listenErrorMessage('EADDRNOTAVAIL', 3100, '10.9.9.9')).toBe('--bind 10.9.9.9 is not an address of this machine; pass --bind 127.0.0.1 (the default) or one of its addresses');
    expect(listenErrorMessage('EACCES', 80, '127.0.0.1')).toBe('--port 80 needs privileges on this machine; pass --port N above 1023');
  });

  it('serves at the URL it returns, sampling from the start, and close() stops everything', async () => {
    let reads = 0;
    const d = await startDashboard({ collect: async () => (reads++, fakeReport(new Date(T0 + reads * 1000), { serving: 1 })), port: 0, bind: '127.0.0.1', intervalMs: 100, scope: '' });
    try {
      expect(d.url).toBe(`http://127.0.0.1:${d.port}`);
      const body = await new Promise<string>((resolve, reject) =>
        http.get(`${d.url}/api/snapshot`, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        }).on('error', reject),
      );
      expect(JSON.parse(body).apps.length).toBe(2);
    } finally {
      await d.close();
    }
    const after = reads;
    await new Promise((r) => setTimeout(r, 250));
    expect(reads).toBe(after);
  });
});
