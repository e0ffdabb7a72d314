// Parse time of /proc/net/tcp content for the reporter benchmark (reporter.ts). Kept apart so
// that a child process can time it under the reporter's NODE_OPTIONS while loading nothing but
// the parser.
import { countEstablishedInText } from '../../webhook/src/reporter/proc-net-tcp.js';
import { parseProcNetTcp } from '../../test/support/proc-net-entries.js';
import { quantile, round } from './common.js';

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/** /proc/net/tcp text with `n` sockets: a tenth ESTABLISHED on port 8081 of 10.0.0.5, the rest mixed. */
export function procText(n: number): string {
  const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
  for (let i = 0; i < n; i++) {
    const local = i % 10 === 0 ? `0500000A:${hex4(8081)}` : `0100007F:${hex4(30000 + (i % 20000))}`;
    const remote = `${(0x0a000000 + (i % 65000)).toString(16).toUpperCase().padStart(8, '0')}:${hex4(40000 + (i % 20000))}`;
    const state = i % 10 === 0 ? '01' : ['01', '06', '08', '0A'][i % 4];
    lines.push(`${String(i).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1`);
  }
  return lines.join('\n') + '\n';
}

function time(fn: () => void, runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

export type ParseTimes = Record<string, { countMs: { p50: number; p90: number }; fullParseMs: { p50: number } }>;

/** The reporter's counting path and the full parse, timed in this process. */
export function timeParsing(say: (l: string) => void = () => {}, runs = 30): ParseTimes {
  const parse: ParseTimes = {};
  for (const n of [1_000, 10_000, 100_000]) {
    const text = procText(n);
    const opts = { ports: [8080, 8081], podIP: '10.0.0.5' };
    const expected = Math.ceil(n / 10);
    const got = countEstablishedInText(text, opts).established;
    if (got !== expected) throw new Error(`parser counted ${got} ESTABLISHED sockets of the pod, expected ${expected}`);
    time(() => countEstablishedInText(text, opts), 5); // warm up
    const counts = time(() => countEstablishedInText(text, opts), runs);
    const full = time(() => parseProcNetTcp(text), Math.ceil(runs / 3));
    parse[n] = { countMs: { p50: round(quantile(counts, 0.5), 2), p90: round(quantile(counts, 0.9), 2) }, fullParseMs: { p50: round(quantile(full, 0.5), 2) } };
    say(`  ${String(n).padStart(7)} sockets: count ${parse[n].countMs.p50} ms (p90 ${parse[n].countMs.p90}), full parse ${parse[n].fullParseMs.p50} ms`);
  }
  return parse;
}
