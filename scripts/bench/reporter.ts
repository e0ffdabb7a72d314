// The reporter runs in every pod, so it must be cheap: parse time of /proc/net/tcp content with
// 1k, 10k and 100k sockets (goal: 100k under 50 ms), and resident memory of a real
// `rainbow reporter` process idle and while answering 100 requests/s (goal: under 50 MB).
//
// The process is started the way chart/rainbow-app starts the sidecar: `rainbow reporter` with
// the chart's arguments and the NODE_OPTIONS of its default values (reporter.nodeOptions), read
// from chart/rainbow-app/values.yaml so that the two cannot drift apart. The image runs Node 22;
// RAINBOW_BENCH_NODE=/path/to/node measures with another runtime than the one running the
// benchmark. For context the results also hold a bare `node -e 'setInterval(()=>{},1e3)'` of the
// same runtime, the reporter without the chart's flags, and the count timed under those flags.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parse as parseYAML } from 'yaml';
import { eventually } from '../cluster/poll.js';
import { freePort } from '../cluster/processes.js';
import { rainbowCommand } from '../cluster/rainbow-command.js';
import { repoRoot } from '../cluster/paths.js';
import { round } from './common.js';
import { timeParsing, type ParseTimes } from './reporter-parse.js';

/** NODE_OPTIONS that chart/rainbow-app gives the reporter by default (reporter.nodeOptions). */
export function chartNodeOptions(): string {
  const values = parseYAML(readFileSync(path.join(repoRoot, 'chart', 'rainbow-app', 'values.yaml'), 'utf8')) as { reporter?: { nodeOptions?: string } };
  return values.reporter?.nodeOptions ?? '';
}

interface Memory {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
}

// VmRSS = RssAnon (the process's own heap, stacks, malloc) + RssFile (pages of mapped files,
// mostly the node binary, shared with every process that maps the same file) + RssShmem.
function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMiB: round(mibOf(status, 'VmRSS')), anonMiB: round(mibOf(status, 'RssAnon')), fileMiB: round(mibOf(status, 'RssFile')) };
}

/** A `Field:   123 kB` line of a /proc file (status, smaps_rollup), in MiB; NaN when absent. */
function mibOf(procText: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(procText)?.[1] ?? NaN) / 1024;
}

// utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat); USER_HZ is 100 on Linux.
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Highest RSS of a few samples over one second: the idle figure. */
async function idleMemory(pid: number): Promise<Memory> {
  let top = memory(pid);
  for (let i = 0; i < 10; i++) {
    await sleep(100);
    const m = memory(pid);
    if (m.rssMiB > top.rssMiB) top = m;
  }
  return top;
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

const bareEnv = (nodeOptions: string): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return nodeOptions ? { ...env, NODE_OPTIONS: nodeOptions } : env;
};

/** `rainbow reporter` as the image runs it (its node flags), with the chart's arguments, on 127.0.0.1:`port`. */
function spawnReporter(node: string, nodeOptions: string, port: number) {
  const args = [...rainbowCommand(node).args, 'reporter', '--ports', '8080,8081', '--port', String(port), '--pod-ip', '127.0.0.1', '--bind', '127.0.0.1'];
  return spawn(node, args, { stdio: 'ignore', env: bareEnv(nodeOptions) });
}

/** A bare Node.js process of the same runtime, idle: what any Node.js sidecar costs at least. */
async function bareNode(node: string, nodeOptions: string): Promise<Memory> {
  const child = spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', env: bareEnv(nodeOptions) });
  try {
    await sleep(2000);
    return await idleMemory(child.pid!);
  } finally {
    child.kill('SIGTERM');
  }
}

export interface ReporterMemory {
  nodeOptions: string;
  idle: Memory;
  peakUnder100rps: Memory;
  requests: number;
  answered200: number;
  requestsPerSecond: number;
  cpuMsPerRequest: number;
}

/**
 * A real `rainbow reporter` (dist/webhook/src/cli.js, the image's entrypoint) with the chart's
 * arguments: idle once it answers (as after its first readiness probes), then 10 s of bursts of
 * 10 concurrent requests every 100 ms, sampling its memory every 20 ms.
 */
async function reporterMemory(node: string, nodeOptions: string): Promise<ReporterMemory> {
  const port = await freePort();
  const child = spawnReporter(node, nodeOptions, port);
  const pid = child.pid!;
  try {
    for (let i = 0; i < 50 && (await get(port)) !== 200; i++) await sleep(100);
    await sleep(3000);
    const idle = await idleMemory(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      const m = memory(pid);
      if (m.rssMiB > peak.rssMiB) peak = m;
    }, 20);
    let ok = 0;
    let sent = 0;
    const cpu0 = cpuMs(pid);
    const start = Date.now();
    try {
      while (Date.now() < start + 10_000) {
        const tick = Date.now();
        const batch = Array.from({ length: 10 }, () => get(port));
        sent += 10;
        ok += (await Promise.all(batch)).filter((c) => c === 200).length;
        await sleep(Math.max(0, 100 - (Date.now() - tick)));
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - start) / 1000;
    return {
      nodeOptions,
      idle,
      peakUnder100rps: peak,
      requests: sent,
      answered200: ok,
      requestsPerSecond: round(sent / seconds),
      cpuMsPerRequest: round((cpuMs(pid) - cpu0) / sent, 2),
    };
  } finally {
    child.kill('SIGTERM');
  }
}

export interface SharedMemory {
  reporters: number;
  /** Mean over the reporters of their proportional set size: file pages count once per process mapping them. */
  meanPssMiB: number;
  meanPssAnonMiB: number;
  meanPssFileMiB: number;
  meanRssMiB: number;
}

// Pss = each resident page divided by the number of processes mapping it: the node binary's
// pages, shared by every reporter on a node (one image layer, one page cache), count once among
// them, a process's own heap in full.
function proportional(pid: number): { pss: number; pssAnon: number; pssFile: number; rss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { pss: mibOf(rollup, 'Pss'), pssAnon: mibOf(rollup, 'Pss_Anon'), pssFile: mibOf(rollup, 'Pss_File'), rss: mibOf(rollup, 'Rss') };
}

/**
 * `count` reporters side by side, as on a node running that many pods of rainbow apps: once all
 * answer and have idled, the mean of their proportional set sizes is what each one costs there.
 */
async function sharedMemory(node: string, nodeOptions: string, count: number): Promise<SharedMemory> {
  const children: Array<{ pid: number; port: number; kill: () => void }> = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const child = spawnReporter(node, nodeOptions, port);
      children.push({ pid: child.pid!, port, kill: () => child.kill('SIGTERM') });
    }
    for (const c of children) await eventually(`reporter pid ${c.pid} on 127.0.0.1:${c.port} to answer /connections`, async () => (await get(c.port)) === 200, 10_000, 100);
    await sleep(3000);
    const all = children.map((c) => proportional(c.pid));
    const mean = (f: (m: (typeof all)[number]) => number) => round(all.reduce((n, m) => n + f(m), 0) / all.length);
    return { reporters: count, meanPssMiB: mean((m) => m.pss), meanPssAnonMiB: mean((m) => m.pssAnon), meanPssFileMiB: mean((m) => m.pssFile), meanRssMiB: mean((m) => m.rss) };
  } finally {
    for (const c of children) c.kill();
  }
}

/** The count timed in a child process of `node` under `nodeOptions` (fewer runs: --jitless is slow). */
// The child imports only the parser: on Node 22 an ES import of node:http loads undici, which
// needs WebAssembly, which --jitless turns off, and the child would exit (the reporter itself
// takes node:http through process.getBuiltinModule; webhook/src/connections/reporter.ts).
function timeParsingUnder(node: string, nodeOptions: string): ParseTimes {
  const self = pathToFileURL(path.join(repoRoot, 'dist', 'scripts', 'bench', 'reporter-parse.js')).href;
  const script = `import { timeParsing } from ${JSON.stringify(self)}; console.log(JSON.stringify(timeParsing(undefined, 10)));`;
  const out = execFileSync(node, ['--input-type=module', '-e', script], { env: bareEnv(nodeOptions), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out) as ParseTimes;
}

/** Sockets in this host's /proc/net/tcp and tcp6 now: what each request reads. */
function procSockets(): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      n += readFileSync(file, 'latin1').split('\n').filter((l) => /^\s*\d+:/.test(l)).length;
    } catch {
      // no IPv6
    }
  }
  return n;
}

const mem = (m: Memory) => `${m.rssMiB} MiB (anon ${m.anonMiB} + file ${m.fileMiB})`;

export async function benchReporter(say: (l: string) => void = console.log) {
  const node = process.env.RAINBOW_BENCH_NODE || process.execPath;
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const nodeOptions = chartNodeOptions();

  say(`  count and full parse, in this process (Node ${process.version}, no flags):`);
  const parse = timeParsing(say);
  let parseUnderChartFlags: ParseTimes | undefined;
  if (nodeOptions) {
    parseUnderChartFlags = timeParsingUnder(node, nodeOptions);
    const c = (n: number) => parseUnderChartFlags![n]!.countMs.p50;
    say(`  count under the chart's NODE_OPTIONS="${nodeOptions}" (${nodeVersion}): 1k ${c(1_000)} ms, 10k ${c(10_000)} ms, 100k ${c(100_000)} ms`);
  }

  const hostSockets = procSockets();
  say(`  resident memory, ${nodeVersion}, reporter as the chart runs it (NODE_OPTIONS="${nodeOptions}"); ${hostSockets} sockets in /proc/net/tcp{,6}:`);
  const baseline = { plain: await bareNode(node, ''), withChartNodeOptions: await bareNode(node, nodeOptions) };
  say(`    bare node -e 'setInterval(()=>{},1e3)': ${mem(baseline.plain)}; with the chart's NODE_OPTIONS ${mem(baseline.withChartNodeOptions)}`);
  const report = (label: string, m: ReporterMemory) =>
    say(`    ${label}: idle ${mem(m.idle)}, peak at ~100 req/s ${mem(m.peakUnder100rps)} (${m.answered200}/${m.requests} answered 200, ${m.requestsPerSecond} req/s, ${m.cpuMsPerRequest} ms CPU per request)`);
  const memory = await reporterMemory(node, nodeOptions);
  report('reporter', memory);
  const withoutChartFlags = nodeOptions ? await reporterMemory(node, '') : undefined;
  if (withoutChartFlags) report('reporter without NODE_OPTIONS', withoutChartFlags);
  const shared = await sharedMemory(node, nodeOptions, 10);
  say(
    `    ${shared.reporters} reporters side by side: each ${shared.meanPssMiB} MiB proportional set size (anon ${shared.meanPssAnonMiB} + its share of file pages ${shared.meanPssFileMiB}); RSS of each ${shared.meanRssMiB} MiB`,
  );

  return { reporterRuntime: nodeVersion, chartNodeOptions: nodeOptions, parse, parseUnderChartFlags, hostSockets, baseline, memory, withoutChartFlags, shared };
}
