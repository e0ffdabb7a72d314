// The reporter runs in every pod, so it must be cheap: parse time of /proc/net/tcp content with
// 1k, 10k and 100k sockets (goal: 100k under 50 ms), and resident memory of a real
// `rainbow reporter` process idle and while answering 100 requests/s (goal: under 50 MB).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { countEstablishedInText, parseProcNetTcp } from '../../webhook/src/connections/proc-net-tcp.js';
import { freePort } from '../cluster/processes.js';
import { repoRoot } from '../cluster/paths.js';
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

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function get(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/connections', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

export async function benchReporter(say: (l: string) => void = console.log) {
  const parse: Record<string, { countMs: { p50: number; p90: number }; fullParseMs: { p50: number } }> = {};
  for (const n of [1_000, 10_000, 100_000]) {
    const text = procText(n);
    const opts = { ports: [8080, 8081], podIP: '10.0.0.5' };
    const expected = Math.ceil(n / 10);
    const got = countEstablishedInText(text, opts).established;
    if (got !== expected) throw new Error(`parser counted ${got} ESTABLISHED sockets of the pod, expected ${expected}`);
    time(() => countEstablishedInText(text, opts), 5); // warm up
    const counts = time(() => countEstablishedInText(text, opts), 30);
    const full = time(() => parseProcNetTcp(text), 10);
    parse[n] = { countMs: { p50: round(quantile(counts, 0.5), 2), p90: round(quantile(counts, 0.9), 2) }, fullParseMs: { p50: round(quantile(full, 0.5), 2) } };
    say(`  ${String(n).padStart(7)} sockets: count ${parse[n].countMs.p50} ms (p90 ${parse[n].countMs.p90}), full parse ${parse[n].fullParseMs.p50} ms`);
  }

  const port = await freePort();
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'webhook', 'src', 'cli.js'), 'reporter', '--ports', '8080,8081', `--port=${port}`, '--bind=127.0.0.1'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && (await get(port)) !== 200; i++) await sleep(100);
    await sleep(2000);
    const idle = rssMiB(child.pid!);
    let maxUnderLoad = 0;
    let ok = 0;
    let sent = 0;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const tick = Date.now();
      const batch = Array.from({ length: 10 }, () => get(port));
      sent += 10;
      ok += (await Promise.all(batch)).filter((c) => c === 200).length;
      maxUnderLoad = Math.max(maxUnderLoad, rssMiB(child.pid!));
      await sleep(Math.max(0, 100 - (Date.now() - tick)));
    }
    const memory = { idleMiB: round(idle), maxUnder100rpsMiB: round(maxUnderLoad), requests: sent, answered200: ok };
    say(`  reporter RSS: idle ${memory.idleMiB} MiB, at 100 req/s for 10 s max ${memory.maxUnder100rpsMiB} MiB (${ok}/${sent} answered 200)`);
    return { parse, memory };
  } finally {
    child.kill('SIGTERM');
  }
}
