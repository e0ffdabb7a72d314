// The clients of the shrink benchmark (scripts/bench/shrink.ts), a process of its own that the
// benchmark starts inside the cluster's network namespace: it opens one TCP stream of the demo
// app per entry of the plan's `lifetimesMs` to HOST:PORT (the app's ClusterIP, so kube-proxy
// spreads them over the color's pods as it would any client's), and prints one JSON line per
// event on stdout:
//
//   {"event":"ready","opened":N,"failed":0}     every stream has its first line
//   (then it waits for a line "start" on stdin: the Service has just moved away; lifetimes start)
//   {"event":"cut","i":…,"atMs":…,"plannedMs":…}  a stream the server ended before its planned end
//   {"event":"done",…}                           every stream is over; a summary
//
// Stream i is closed by this client (FIN) `lifetimesMs[i]` after "start". One that ends any other
// way first (FIN or RST from the server, an error) is cut. It stops by itself after the longest
// lifetime plus `graceMs`, or when stdin closes.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

interface Plan {
  host: string;
  port: number;
  lifetimesMs: number[];
  /** Streams opened at once (default 50). */
  openBatch?: number;
  /** How long after the last planned close it gives up waiting (default 30 000 ms). */
  graceMs?: number;
}

const planFile = process.argv[2];
if (!planFile) {
  console.error('usage: shrink-clients.js PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

interface Conn {
  socket: net.Socket;
  firstLine: boolean;
  lines: number;
  startedAt?: number;
  plannedMs: number;
  /** 'open' until it ends; 'closed' when this client closed it as planned; 'cut' otherwise. */
  state: 'opening' | 'open' | 'closed' | 'cut' | 'failed';
  timer?: NodeJS.Timeout;
}

const conns: Conn[] = [];
let started: number | undefined;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: plan.host, port: plan.port });
    const c: Conn = { socket, firstLine: false, lines: 0, plannedMs: plan.lifetimesMs[i]!, state: 'opening' };
    conns[i] = c;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (d: string) => {
      c.lines += d.split('\n').length - 1;
      if (!c.firstLine && c.lines > 0) {
        c.firstLine = true;
        c.state = 'open';
        resolve();
      }
    });
    const ended = (why: string) => {
      if (c.state === 'opening') {
        c.state = 'failed';
        resolve();
        return;
      }
      if (c.state !== 'open') return;
      c.state = 'cut';
      clearTimeout(c.timer);
      const atMs = started === undefined ? -1 : Date.now() - started;
      say({ event: 'cut', i, why, atMs, plannedMs: c.plannedMs });
      finishIfDone();
    };
    socket.on('end', () => ended('server closed (FIN)'));
    socket.on('error', (err) => ended(err.message));
    socket.on('close', () => ended('closed'));
  });
}

function closeAsPlanned(c: Conn): void {
  if (c.state !== 'open') return;
  c.state = 'closed';
  c.socket.end();
  setTimeout(() => c.socket.destroy(), 1000).unref();
  finishIfDone();
}

let finished = false;
function finishIfDone(force = false): void {
  if (finished || started === undefined) return;
  if (!force && conns.some((c) => c.state === 'open')) return;
  finished = true;
  const count = (s: Conn['state']) => conns.filter((c) => c.state === s).length;
  say({
    event: 'done',
    closedAsPlanned: count('closed'),
    cut: count('cut'),
    stillOpen: count('open'),
    tookMs: Date.now() - started,
    linesAfterStart: conns.reduce((n, c) => n + c.lines, 0),
  });
  for (const c of conns) c.socket.destroy();
  setTimeout(() => process.exit(0), 200);
}

const batch = plan.openBatch ?? 50;
for (let i = 0; i < plan.lifetimesMs.length; i += batch) {
  await Promise.all(plan.lifetimesMs.slice(i, i + batch).map((_, k) => open(i + k)));
}
say({ event: 'ready', opened: conns.filter((c) => c.state === 'open').length, failed: conns.filter((c) => c.state === 'failed').length });

const lines = createInterface({ input: process.stdin });
lines.on('line', (l) => {
  if (l.trim() !== 'start' || started !== undefined) return;
  started = Date.now();
  for (const c of conns) {
    if (c.state === 'open') c.timer = setTimeout(() => closeAsPlanned(c), c.plannedMs);
  }
  const longest = Math.max(0, ...plan.lifetimesMs);
  setTimeout(() => finishIfDone(true), longest + (plan.graceMs ?? 30_000)).unref();
  finishIfDone();
});
lines.on('close', () => {
  for (const c of conns) c.socket.destroy();
  process.exit(0);
});
