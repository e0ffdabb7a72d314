// The clients of the peers benchmark (scripts/bench/peers/peers.ts), a process of its own that
// the benchmark starts inside the cluster's network namespace (as shrink-clients.ts is), so that
// every connection goes to the app's ClusterIP through kube-proxy like any client's:
//
//  - one long-lived TCP stream to HOST:8081 per entry of the plan's `lifetimesMs`, each line it
//    receives recorded with its time and color; stream i is closed by this client (FIN)
//    lifetimesMs[i] after the release ("release" on stdin). One that ends any other way first
//    (FIN or reset from the server, an error) is cut;
//  - once asked ("probe" on stdin), short connections at a steady rate: an HTTP GET on HOST:8080
//    (the X-Rainbow-Color header names the color), then a TCP connect on HOST:8081 read to its
//    first line, alternately; each recorded with its start, duration, color or failure.
//
// Commands on stdin, one per line: `probe`, `release <epoch ms>`, `report <file>` (writes every
// record there as JSON and prints {"event":"report"}). Events on stdout, one JSON line each:
// {"event":"ready",…} once every stream has its first line (or failed), {"event":"cut",…} as
// streams are cut, {"event":"done",…} once every stream has ended. It exits when stdin closes,
// destroying whatever is still open. Every wait is bounded: a stream that has no first line
// within the probe timeout × 5 fails, each short connection has its timeout.
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { colorOfLine, type ProbeRecord, type StreamRecord } from './figures.js';
import { probeKind } from './plan.js';

interface Plan {
  host: string;
  httpPort: number;
  tcpPort: number;
  lifetimesMs: number[];
  /** Streams opened at once. */
  openBatch: number;
  probeRatePerS: number;
  probeTimeoutMs: number;
  /** At most this many short connections are recorded (a bound on memory and on the run). */
  maxProbes: number;
  /**
   * A stream with no line for longer than this at its planned close was silently lost (the app
   * prints every 5 s): its server went away without a FIN reaching the client.
   */
  silentMs: number;
}

const planFile = process.argv[2];
if (!planFile) {
  console.error('usage: clients.js PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

interface Conn {
  rec: StreamRecord;
  socket: net.Socket;
  timer?: NodeJS.Timeout;
}

const conns: Conn[] = [];
let releasedAt: number | undefined;

function endOf(err: NodeJS.ErrnoException | undefined): { end: StreamRecord['end']; why: string } {
  if (!err) return { end: 'fin', why: 'server closed (FIN)' };
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return { end: 'reset', why: err.code };
  return { end: 'error', why: err.code ?? err.message };
}

function openStream(i: number): Promise<void> {
  return new Promise((resolve) => {
    const rec: StreamRecord = { i, plannedMs: plan.lifetimesMs[i]!, lines: [], end: 'open' };
    const socket = net.connect({ host: plan.host, port: plan.tcpPort });
    const c: Conn = { rec, socket };
    conns[i] = c;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    let buf = '';
    let opened = false;
    const giveUp = setTimeout(() => ended({ code: 'ETIMEDOUT', message: 'no first line' } as NodeJS.ErrnoException), plan.probeTimeoutMs * 5);
    socket.on('data', (d: string) => {
      buf += d;
      let k;
      while ((k = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 1);
        const t = Date.now();
        const color = colorOfLine(line);
        rec.lines.push([t, color ?? line.slice(0, 80)]);
        if (!opened) {
          opened = true;
          clearTimeout(giveUp);
          rec.openedAt = t;
          rec.color = color;
          resolve();
        }
      }
    });
    let lastError: NodeJS.ErrnoException | undefined;
    const ended = (err?: NodeJS.ErrnoException) => {
      if (rec.end !== 'open') return;
      clearTimeout(giveUp);
      clearTimeout(c.timer);
      rec.endedAt = Date.now();
      if (!opened) {
        rec.end = 'failed';
        rec.why = err?.code ?? err?.message ?? 'closed before its first line';
        socket.destroy();
        resolve();
        return;
      }
      const e = endOf(err);
      rec.end = e.end;
      rec.why = e.why;
      socket.destroy();
      say({ event: 'cut', i, why: e.why, atMs: releasedAt === undefined ? null : rec.endedAt - releasedAt, plannedMs: rec.plannedMs });
      finishIfDone();
    };
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err;
      ended(err);
    });
    socket.on('end', () => ended(lastError));
    socket.on('close', () => ended(lastError ?? ({ code: 'ECLOSED', message: 'closed' } as NodeJS.ErrnoException)));
  });
}

function closeAsPlanned(c: Conn): void {
  if (c.rec.end !== 'open') return;
  const now = Date.now();
  const last = c.rec.lines[c.rec.lines.length - 1]?.[0] ?? now;
  if (now - last > plan.silentMs) {
    c.rec.end = 'silent';
    c.rec.endedAt = last;
    c.rec.why = `no line for ${((now - last) / 1000).toFixed(1)} s`;
    say({ event: 'cut', i: c.rec.i, why: c.rec.why, atMs: releasedAt === undefined ? null : last - releasedAt, plannedMs: c.rec.plannedMs });
    c.socket.destroy();
    finishIfDone();
    return;
  }
  c.rec.end = 'planned';
  c.rec.endedAt = now;
  c.socket.end();
  setTimeout(() => c.socket.destroy(), 1000).unref();
  finishIfDone();
}

let done = false;
function finishIfDone(): void {
  if (done || releasedAt === undefined || conns.some((c) => c.rec.end === 'open')) return;
  done = true;
  const count = (e: StreamRecord['end']) => conns.filter((c) => c.rec.end === e).length;
  say({ event: 'done', planned: count('planned'), cut: count('fin') + count('reset') + count('error') + count('silent'), tookMs: Date.now() - releasedAt });
}

// Short connections.
const probes: ProbeRecord[] = [];
let probeTimer: NodeJS.Timeout | undefined;
let probeN = 0;

function probeHttp(rec: ProbeRecord, finish: () => void): void {
  const req = http.get({ host: plan.host, port: plan.httpPort, path: '/', agent: false, timeout: plan.probeTimeoutMs }, (res) => {
    const color = res.headers['x-rainbow-color'];
    res.resume();
    res.on('end', () => {
      if (res.statusCode !== 200) rec.error = `HTTP ${res.statusCode}`;
      else rec.color = (Array.isArray(color) ? color[0] : color)?.toLowerCase() ?? '(no X-Rainbow-Color)';
      finish();
    });
    res.on('error', (err: NodeJS.ErrnoException) => {
      rec.error = err.code ?? err.message;
      finish();
    });
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  req.on('error', (err: NodeJS.ErrnoException) => {
    rec.error = err.code ?? err.message;
    finish();
  });
}

function probeTcp(rec: ProbeRecord, finish: () => void): void {
  const socket = net.connect({ host: plan.host, port: plan.tcpPort });
  socket.setEncoding('utf8');
  let buf = '';
  const timer = setTimeout(() => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), plan.probeTimeoutMs);
  const end = (error?: string) => {
    clearTimeout(timer);
    if (rec.color === undefined && rec.error === undefined) rec.error = error ?? 'closed before its first line';
    socket.destroy();
    finish();
  };
  socket.on('data', (d: string) => {
    buf += d;
    const k = buf.indexOf('\n');
    if (k < 0) return;
    const color = colorOfLine(buf.slice(0, k));
    if (color) rec.color = color;
    else rec.error = `unexpected line ${JSON.stringify(buf.slice(0, Math.min(k, 60)))}`;
    end();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => end(err.code ?? err.message));
  socket.on('end', () => end('server closed (FIN) before its first line'));
  socket.on('close', () => end());
}

function probeOnce(): void {
  if (probes.length >= plan.maxProbes) {
    clearInterval(probeTimer);
    return;
  }
  const kind = probeKind(probeN++);
  const started = Date.now();
  const rec: ProbeRecord = { at: started, kind, ms: -1 };
  probes.push(rec);
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    rec.ms = Date.now() - started;
  };
  if (kind === 'http') probeHttp(rec, finish);
  else probeTcp(rec, finish);
}

for (let i = 0; i < plan.lifetimesMs.length; i += plan.openBatch) {
  await Promise.all(plan.lifetimesMs.slice(i, i + plan.openBatch).map((_, k) => openStream(i + k)));
}
const colors: Record<string, number> = {};
for (const c of conns) if (c.rec.color) colors[c.rec.color] = (colors[c.rec.color] ?? 0) + 1;
say({ event: 'ready', opened: conns.filter((c) => c.rec.openedAt !== undefined && c.rec.end === 'open').length, failed: conns.filter((c) => c.rec.end === 'failed').length, colors });

const lines = createInterface({ input: process.stdin });
lines.on('line', (l) => {
  const [cmd, arg] = l.trim().split(/\s+/, 2);
  if (cmd === 'probe' && probeTimer === undefined) {
    probeTimer = setInterval(probeOnce, 1000 / plan.probeRatePerS);
  } else if (cmd === 'release' && releasedAt === undefined) {
    releasedAt = Number(arg) || Date.now();
    const wait = releasedAt - Date.now();
    for (const c of conns) {
      if (c.rec.end === 'open') c.timer = setTimeout(() => closeAsPlanned(c), Math.max(0, c.rec.plannedMs + wait));
    }
    finishIfDone();
  } else if (cmd === 'report' && arg) {
    clearInterval(probeTimer);
    // Short connections still in flight are given their timeout to finish.
    const deadline = Date.now() + plan.probeTimeoutMs + 500;
    const write = () => {
      if (probes.some((p) => p.ms < 0) && Date.now() < deadline) {
        setTimeout(write, 100);
        return;
      }
      for (const p of probes) if (p.ms < 0) p.error ??= 'still in flight at the report';
      writeFileSync(arg, JSON.stringify({ streams: conns.map((c) => c.rec), probes }));
      say({ event: 'report', streams: conns.length, probes: probes.length });
    };
    write();
  }
});
lines.on('close', () => {
  clearInterval(probeTimer);
  for (const c of conns) c.socket.destroy();
  process.exit(0);
});
