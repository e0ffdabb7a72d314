// The soak's clients, a process of their own that the soak starts inside the cluster's network
// namespace (execArgs), so that they reach the app's ClusterIP through the real kube-proxy as any
// client in the cluster would:
//
//  - long-lived streams to the demo app's TCP port (:8081), each opened at its planned moment
//    (retried until a line arrives, as a reconnecting client would) and closed by this client
//    (FIN) its planned lifetime after the first line. Every line is recorded with its time, and so
//    is whether the stream ended before the client chose to (FIN, RST or an error from the other
//    side: "server");
//  - a steady rate of short HTTP requests to :8080, each on a fresh connection; a failure is any
//    error, timeout or status other than 200.
//
// It prints JSON lines on stdout — {"event":"tick",…} every 10 s, {"event":"cut",…} and
// {"event":"http-fail",…} as they happen — and at the end writes every record to the plan's `out`
// file and prints {"event":"done"}. It stops by itself once every stream is over and the request
// period has ended, at the latest at `stopAfterMs` after t0, or when its stdin closes.
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { PlannedStream } from './plan.js';
import type { RequestFailure, StreamRecord } from './checks.js';

export interface ClientsPlan {
  host: string;
  httpPort: number;
  tcpPort: number;
  /** Epoch ms that the streams' openAtMs and the request period count from. */
  t0: number;
  streams: PlannedStream[];
  http: { ratePerS: number; untilMs: number; timeoutMs: number };
  /** How long a stream keeps trying to get its first line. */
  openTimeoutMs: number;
  stopAfterMs: number;
  out: string;
}

export interface ClientsOutput {
  streams: StreamRecord[];
  requests: { sent: number; ok: number; byColor: Record<string, number>; failures: RequestFailure[]; latenciesMs: number[] };
  stoppedBy: 'done' | 'deadline' | 'stdin';
}

const planFile = process.argv[2];
if (!planFile) {
  console.error('usage: soak-clients.js PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as ClientsPlan;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const COLOR = /The color is #([0-9a-f]{6})/;

interface Live {
  rec: StreamRecord;
  socket?: net.Socket;
  state: 'waiting' | 'opening' | 'open' | 'done';
}
const live: Live[] = plan.streams.map((p) => ({
  rec: { i: p.i, plannedAt: plan.t0 + p.openAtMs, attempts: 0, colors: [], lines: [], endedBy: 'open' },
  state: 'waiting',
}));
const timers = new Set<NodeJS.Timeout>();
const later = (ms: number, f: () => void) => {
  const t = setTimeout(() => {
    timers.delete(t);
    f();
  }, Math.max(0, ms));
  timers.add(t);
};

function attempt(l: Live, p: PlannedStream, deadline: number): void {
  l.state = 'opening';
  l.rec.attempts += 1;
  const socket = net.connect({ host: plan.host, port: plan.tcpPort });
  l.socket = socket;
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  let buf = '';
  let gotLine = false;
  let settled = false;
  const firstLineTimer = setTimeout(() => retry('no line within 3 s'), 3000);
  const retry = (why: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(firstLineTimer);
    socket.destroy();
    if (Date.now() + 300 > deadline) {
      l.state = 'done';
      l.rec.endedBy = 'never-opened';
      l.rec.why = `${l.rec.attempts} attempts; last: ${why}`;
      l.rec.endedAt = Date.now();
      say({ event: 'never-opened', i: l.rec.i, why: l.rec.why });
      finishIfDone();
      return;
    }
    later(300, () => attempt(l, p, deadline));
  };
  socket.on('data', (d: string) => {
    buf += d;
    let k;
    while ((k = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, k).trim();
      buf = buf.slice(k + 1);
      if (!gotLine) {
        gotLine = true;
        settled = true;
        clearTimeout(firstLineTimer);
        l.state = 'open';
        l.rec.openedAt = Date.now();
        later(p.lifetimeMs, () => closeAsPlanned(l));
      }
      l.rec.lines.push([Date.now() - l.rec.openedAt!, text]);
      const c = COLOR.exec(text)?.[1];
      if (c && !l.rec.colors.includes(c)) l.rec.colors.push(c);
    }
  });
  const ended = (why: string) => {
    if (!gotLine) return retry(why);
    if (l.state !== 'open') return;
    l.state = 'done';
    l.rec.endedBy = 'server';
    l.rec.endedAt = Date.now();
    l.rec.why = why;
    socket.destroy();
    say({ event: 'cut', i: l.rec.i, color: l.rec.colors[0], why, openForMs: l.rec.endedAt - l.rec.openedAt!, plannedMs: p.lifetimeMs });
    finishIfDone();
  };
  socket.on('end', () => ended('the other side closed it (FIN)'));
  socket.on('error', (err) => ended(err.message));
  socket.on('close', () => ended('closed'));
}

function closeAsPlanned(l: Live): void {
  if (l.state !== 'open') return;
  l.state = 'done';
  l.rec.endedBy = 'client';
  l.rec.endedAt = Date.now();
  const socket = l.socket!;
  socket.end();
  setTimeout(() => socket.destroy(), 2000).unref();
  finishIfDone();
}

for (let k = 0; k < plan.streams.length; k++) {
  const p = plan.streams[k]!;
  const l = live[k]!;
  later(plan.t0 + p.openAtMs - Date.now(), () => attempt(l, p, Date.now() + plan.openTimeoutMs));
}

// Short requests: one every 1/rate s, each on a connection of its own.
const requests: ClientsOutput['requests'] = { sent: 0, ok: 0, byColor: {}, failures: [], latenciesMs: [] };
let inFlight = 0;
function request(): void {
  const at = Date.now();
  requests.sent += 1;
  inFlight += 1;
  let done = false;
  const finish = (error?: string, color?: string) => {
    if (done) return;
    done = true;
    inFlight -= 1;
    if (error) {
      requests.failures.push({ at, error });
      say({ event: 'http-fail', at, error });
    } else {
      requests.ok += 1;
      requests.latenciesMs.push(Date.now() - at);
      requests.byColor[color ?? '?'] = (requests.byColor[color ?? '?'] ?? 0) + 1;
    }
    finishIfDone();
  };
  const req = http.get({ host: plan.host, port: plan.httpPort, path: '/', agent: false, timeout: plan.http.timeoutMs }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? finish(undefined, String(res.headers['x-rainbow-color'] ?? '?')) : finish(`HTTP ${res.statusCode}`)));
    res.on('error', (err) => finish(err.message));
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${plan.http.timeoutMs} ms`)));
  req.on('error', (err) => finish(err.message));
}
const httpEvery = 1000 / plan.http.ratePerS;
let nextRequest = plan.t0;
let requestsOver = false;
function scheduleRequests(): void {
  const now = Date.now();
  if (now >= plan.t0 + plan.http.untilMs) {
    requestsOver = true;
    finishIfDone();
    return;
  }
  while (nextRequest <= now) {
    request();
    nextRequest += httpEvery;
  }
  later(nextRequest - now, scheduleRequests);
}
later(plan.t0 - Date.now(), scheduleRequests);

const tick = setInterval(() => {
  const count = (st: Live['state']) => live.filter((l) => l.state === st).length;
  say({
    event: 'tick',
    at: Date.now(),
    open: count('open'),
    waiting: count('waiting') + count('opening'),
    closed: live.filter((l) => l.rec.endedBy === 'client').length,
    cut: live.filter((l) => l.rec.endedBy === 'server').length,
    neverOpened: live.filter((l) => l.rec.endedBy === 'never-opened').length,
    http: { sent: requests.sent, ok: requests.ok, failed: requests.failures.length },
  });
}, 10_000);

let finished = false;
function finish(stoppedBy: ClientsOutput['stoppedBy']): void {
  if (finished) return;
  finished = true;
  clearInterval(tick);
  for (const t of timers) clearTimeout(t);
  for (const l of live) {
    if (l.state === 'open' || l.state === 'opening') l.rec.endedBy = l.state === 'open' ? 'open' : 'never-opened';
    l.socket?.destroy();
  }
  const out: ClientsOutput = { streams: live.map((l) => l.rec), requests, stoppedBy };
  writeFileSync(plan.out, JSON.stringify(out));
  say({ event: 'done', stoppedBy });
  setTimeout(() => process.exit(0), 100);
}
function finishIfDone(): void {
  if (requestsOver && inFlight === 0 && live.every((l) => l.state === 'done')) finish('done');
}
setTimeout(() => finish('deadline'), plan.t0 + plan.stopAfterMs - Date.now()).unref();
process.stdin.on('end', () => finish('stdin'));
process.stdin.on('close', () => finish('stdin'));
process.stdin.resume();
