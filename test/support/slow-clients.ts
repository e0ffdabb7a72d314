// Clients that misbehave on purpose, for the tests of the servers' limits: one that trickles its
// headers, one whose chunked body never ends, one that says nothing, and plain connections held open.
// Each stops writing by itself once its socket closes or after `maxMs`.
import type { Socket } from 'node:net';

export type Connect = () => Socket;

export interface Outcome {
  /** What the server sent before the socket closed (a 408 status line, or nothing). */
  received: string;
  /** Milliseconds from connecting until the socket closed; undefined if still open after maxMs. */
  closedAfterMs?: number;
}

function watch(socket: Socket, maxMs: number, tick: (n: number) => void, everyMs: number): Promise<Outcome> {
  const started = Date.now();
  let received = '';
  let n = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - started > maxMs) {
        clearInterval(timer);
        socket.destroy();
        resolve({ received });
        return;
      }
      if (!socket.destroyed && socket.writable) tick(n++);
    }, everyMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
  });
}

/** A request line, then one more header line every `everyMs`, never the blank line that ends them. */
export function trickleHeaders(connect: Connect, o: { everyMs: number; maxMs: number }): Promise<Outcome> {
  const s = connect();
  s.write('GET /healthz HTTP/1.1\r\nHost: limits.test\r\n');
  return watch(s, o.maxMs, (n) => s.write(`X-Slow-${n}: ${n}\r\n`), o.everyMs);
}

/** Complete headers of a chunked POST, then a small chunk every `everyMs`, never the last one. */
export function endlessBody(connect: Connect, o: { path: string; everyMs: number; maxMs: number }): Promise<Outcome> {
  const s = connect();
  s.write(`POST ${o.path} HTTP/1.1\r\nHost: limits.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
  return watch(s, o.maxMs, () => s.write('1\r\n \r\n'), o.everyMs);
}

/** Connects and sends nothing. */
export function silent(connect: Connect, o: { maxMs: number }): Promise<Outcome> {
  return watch(connect(), o.maxMs, () => undefined, 50);
}
