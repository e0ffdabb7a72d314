// The scale benchmark's processes, all in one network namespace of their own made inside the
// cluster's (a child of it, like a pod's): the real `rainbow reporter`s every pod address reaches,
// the connection holder they count, `rainbow webhook` and `rainbow controller` with their CPU
// sampled from /proc, and the review sender; the project's own forwarder there carries their API
// connections through the cluster's portal to the API server. Started detached, stopped by PID.
//
// Why a namespace of its own: reading /proc/net/tcp walks the TCP established-hash table of the
// reader's namespace, and a namespace made from the host's shares the host's (262,144 buckets
// here: ~4 ms of kernel time per read, so 15,000 answers per drain round would take a minute of
// both cores). A child of the cluster's namespace made while the cluster's namespace has
// net.ipv4.tcp_child_ehash_entries set gets a table of that size, as one pod's would be if its
// node set it; the reporters then answer in a fraction of a millisecond, as 15,000 reporters on
// their own nodes would together.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execArgs, readState } from '../../cluster/control-plane.js';
import { portalSocketPath } from '../../cluster/network/portal.js';
import { kubeconfigPath, repoRoot } from '../../cluster/paths.js';
import { eventually } from '../../cluster/poll.js';
import { commOf, isRunning, runCommand, startDaemon, stopDaemon, type Daemon } from '../../cluster/processes.js';
import { rainbowCommand } from '../../cluster/rainbow-command.js';
import { sumMetric } from '../../cluster/metrics-text.js';
import { readProcStat, type CpuSample } from './proc.js';

const script = (...p: string[]) => path.join(repoRoot, 'dist', 'scripts', ...p);
const logHas = (log: string, text: string) => existsSync(log) && readFileSync(log, 'utf8').includes(text);

export interface BenchNetns {
  /** argv run inside the benchmark's namespace. */
  enter(argv: string[]): string[];
  /** A kubeconfig for processes inside it: the API server through the forwarder on its 127.0.0.1:6443. */
  kubeconfig: string;
  ehashEntries: number;
  start(name: string, argv: string[], log: string, env?: NodeJS.ProcessEnv): Daemon;
  run(argv: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchNetns(dir: string, ehashEntries: number, maxTimeWait: number): Promise<BenchNetns> {
  const cluster = readState()?.namespace;
  if (!cluster) throw new Error('the local cluster is not running');
  const userFlags = cluster.rootless ? ['--user', '--preserve-credentials'] : [];
  const before = (await runCommand(execArgs(['sysctl', '-n', 'net.ipv4.tcp_child_ehash_entries']))).trim();
  await runCommand(execArgs(['sysctl', '-w', `net.ipv4.tcp_child_ehash_entries=${ehashEntries}`]));
  let holder: Daemon;
  try {
    holder = startDaemon('scale-netns', 'nsenter', [`--target=${cluster.pid}`, ...userFlags, '--net', '--', 'unshare', '--net', 'sleep', 'infinity'], path.join(dir, 'netns.log'));
    await eventually('the benchmark namespace', async () => commOf(holder.pid) === 'sleep' && readlinkSync(`/proc/${holder.pid}/ns/net`) !== readlinkSync(`/proc/${cluster.pid}/ns/net`), 10_000, 50);
  } finally {
    await runCommand(execArgs(['sysctl', '-w', `net.ipv4.tcp_child_ehash_entries=${before}`]));
  }
  const enter = (argv: string[]) => ['nsenter', `--target=${holder.pid}`, ...userFlags, '--net', '--', ...argv];
  const run = (argv: string[]) => runCommand(enter(argv), { where: "in the benchmark's network namespace" });
  const daemons: Daemon[] = [];
  const start = (name: string, argv: string[], log: string, env: NodeJS.ProcessEnv = process.env) => {
    const [cmd, ...args] = enter(argv);
    const d = startDaemon(name, cmd!, args, log, env);
    daemons.push(d);
    return d;
  };
  try {
    await run(['ip', 'link', 'set', 'lo', 'up']);
    // Each answer of a reporter leaves a TIME_WAIT socket; a pod's namespace would hold its own few,
    // this one would list every answer of the last minute on every read.
    await run(['sysctl', '-w', `net.ipv4.tcp_max_tw_buckets=${maxTimeWait}`]);
    const kubeconfig = path.join(dir, 'kubeconfig.netns');
    writeFileSync(kubeconfig, readFileSync(kubeconfigPath, 'utf8').replace(/server: https:\/\/[^\s]+/, 'server: https://127.0.0.1:6443'));
    const fwdLog = path.join(dir, 'forwarder.log');
    const fwd = start('scale-forwarder', [process.execPath, script('cluster', 'network', 'forwarder-main.js'), '--host=127.0.0.1', `--portal=${portalSocketPath()}`, `--kubeconfig=${kubeconfig}`], fwdLog);
    await eventually('the forwarder in the benchmark namespace', async () => logHas(fwdLog, '127.0.0.1:6443'), 15_000, 100, { abort: () => (isRunning(fwd) ? undefined : `the forwarder exited; see ${fwdLog}`) });
    const table = (await run(['sysctl', '-n', 'net.ipv4.tcp_max_tw_buckets'])).trim();
    if (table !== String(maxTimeWait)) throw new Error(`tcp_max_tw_buckets is ${table} in the benchmark namespace`);
    return {
      enter,
      kubeconfig,
      ehashEntries,
      start,
      run,
      async stop() {
        for (const d of daemons.reverse()) await stopDaemon(d);
        await stopDaemon(holder);
      },
    };
  } catch (err) {
    for (const d of daemons) await stopDaemon(d);
    await stopDaemon(holder);
    throw err;
  }
}

/** The process a daemon started through nsenter runs as: nsenter execs its command (no --pid, no --fork), so the PID is node's. */
export function checkedPid(d: Daemon): number {
  const comm = commOf(d.pid);
  if (comm !== 'node' && comm !== 'MainThread') throw new Error(`${d.name} (pid ${d.pid}) runs as ${comm ?? 'nothing'}, not node; see ${d.log}`);
  return d.pid;
}

export async function startHolder(ns: BenchNetns, dir: string, port: number, connections: number): Promise<Daemon> {
  const log = path.join(dir, 'holder.log');
  const d = ns.start('scale-holder', [process.execPath, script('bench', 'scale', 'holder.js'), String(port), String(connections)], log);
  await eventually(`the connection holder to open ${connections} connections`, async () => logHas(log, '"ready"'), 15_000, 100, { abort: () => (isRunning(d) ? undefined : `the holder exited; see ${log}`) });
  return d;
}

/**
 * `rainbow reporter`s as the chart runs them (the image's node flags, NODE_OPTIONS of the chart),
 * each on 0.0.0.0:<port> without --pod-ip: reporter k answers every 127.x address on port 9471 + k.
 */
export async function startReporters(ns: BenchNetns, dir: string, count: number, countedPort: number): Promise<Array<Daemon & { port: number }>> {
  const { node, args } = rainbowCommand();
  const out: Array<Daemon & { port: number }> = [];
  for (let k = 0; k < count; k++) {
    const log = path.join(dir, `reporter-${k}.log`);
    const port = 9471 + k;
    const d = ns.start(`scale-reporter-${k}`, [node, ...args, 'reporter', '--ports', String(countedPort), '--port', String(port), '--bind', '0.0.0.0'], log, { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1' });
    out.push({ ...d, port });
  }
  for (const d of out) await eventually(`reporter ${d.name} to listen`, async () => logHas(d.log, 'reporter listening'), 15_000, 100, { abort: () => (isRunning(d) ? undefined : `${d.name} exited; see ${d.log}`) });
  return out;
}

/** Lines a reporter logged about connections it dropped at accept (its connection cap), and their total. */
export function reporterDrops(logs: readonly string[]): number {
  let n = 0;
  for (const log of logs) {
    if (!existsSync(log)) continue;
    for (const l of readFileSync(log, 'utf8').split('\n')) {
      if (!l.includes('dropped at accept')) continue;
      try {
        n += Number((JSON.parse(l) as { dropped?: number }).dropped ?? 1);
      } catch {
        n += 1;
      }
    }
  }
  return n;
}

interface LogLine {
  /** ms since the epoch (the log's ISO time, or epoch ms). */
  time: number;
  level: string;
  msg: string;
  [k: string]: unknown;
}

const WARN_LEVELS = new Set(['warn', 'error', 'fatal', '40', '50', '60']);

function logLines(log: string): LogLine[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        const o = JSON.parse(l) as Omit<LogLine, 'time' | 'level'> & { time?: unknown; level?: unknown };
        if (typeof o.msg !== 'string') return [];
        const time = typeof o.time === 'number' ? o.time : Date.parse(String(o.time));
        return [{ ...o, time, level: String(o.level) } as LogLine];
      } catch {
        return [];
      }
    });
}

/** GET inside the benchmark namespace (curl), for the processes' /metrics. */
async function getInside(ns: BenchNetns, url: string, ca?: string): Promise<string> {
  return ns.run(['curl', '-sS', '--max-time', '20', ...(ca ? ['--cacert', ca] : []), url]);
}

export interface WebhookProcess {
  url: string;
  ca: string;
  caFile: string;
  pid: number;
  log: string;
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** `rainbow webhook` as webhook-process.ts starts it (self-signed, 127.0.0.1), in the benchmark namespace; resolves once its caches have synced. */
export async function startWebhook(ns: BenchNetns, dir: string, tag: string, timeoutMs: number): Promise<WebhookProcess> {
  const caFile = path.join(dir, `webhook-${tag}.ca.crt`);
  const log = path.join(dir, `webhook-${tag}.log`);
  const port = 8443;
  const { node, args } = rainbowCommand();
  const d = ns.start('scale-webhook', [node, ...args, 'webhook', '--self-signed', '--bind', '127.0.0.1', '--port', String(port), '--ca-bundle-out', caFile, '--kubeconfig', ns.kubeconfig], log);
  const url = `https://127.0.0.1:${port}`;
  const stop = () => stopDaemon(d).then(() => undefined);
  try {
    const abort = () => (isRunning(d) ? undefined : `rainbow webhook exited; see ${log}`);
    await eventually('the webhook to log that its watch caches synced', async () => logHas(log, 'watch caches synced'), timeoutMs, 100, { abort });
    const ca = readFileSync(caFile, 'utf8');
    return {
      url,
      ca,
      caFile,
      pid: checkedPid(d),
      log,
      metric: async (name) => sumMetric(await getInside(ns, `${url}/metrics`, caFile), name),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ControllerProcess {
  daemon: Daemon;
  pid: number;
  log: string;
  /** utime + stime every sampleMs from the start; grows until stop(). */
  samples: CpuSample[];
  /** Times (ms since the epoch, from its log) of 'rainbow controller starting', 'caches synced', 'watching'. */
  marks: { starting: number; synced: number; watching: number; apps: number };
  metricsText(): Promise<string>;
  metric(name: string): Promise<number>;
  /** The log lines at warn level or above. */
  problems(): string[];
  stop(): Promise<void>;
}

/**
 * `rainbow controller` over every namespace, as the chart runs it (no --namespace), in the
 * benchmark namespace; resolves once it has logged 'watching' (its caches listed and its first
 * round over every app done). `extra` processes are sampled along.
 */
export async function startController(ns: BenchNetns, dir: string, tag: string, flags: string[], sampleMs: number, timeoutMs: number, extra: Array<{ pid: number; samples: CpuSample[] }> = []): Promise<ControllerProcess> {
  const log = path.join(dir, `controller-${tag}.log`);
  const { node, args } = rainbowCommand();
  const daemon = ns.start('scale-controller', [node, ...args, 'controller', `--kubeconfig=${ns.kubeconfig}`, '--metrics-port=0', '--bind=127.0.0.1', ...flags], log, { ...process.env, RAINBOW_LOG_LEVEL: 'info' });
  // Until nsenter has exec'd node, the PID is nsenter's.
  const pid = await eventually('the controller process to start', async () => commOf(daemon.pid) !== 'nsenter' && checkedPid(daemon), 10_000, 5);
  const samples: CpuSample[] = [];
  const sample = () => {
    const t = Date.now();
    try {
      samples.push({ t, ticks: readProcStat(pid).ticks });
      for (const x of extra) x.samples.push({ t, ticks: readProcStat(x.pid).ticks });
    } catch {
      /* exited */
    }
  };
  sample();
  const timer = setInterval(sample, sampleMs);
  const stop = async () => {
    clearInterval(timer);
    await stopDaemon(daemon);
  };
  try {
    const abort = () => (isRunning(daemon) ? undefined : `rainbow controller exited; see ${log}`);
    const find = (msg: string) => logLines(log).find((l) => l.msg === msg);
    const watching = await eventually("the controller's first round over every app ('watching')", async () => find('watching'), timeoutMs, 100, { abort });
    const starting = find('rainbow controller starting')!;
    const synced = find('caches synced')!;
    const metricsUrl = String(starting.metrics).replace(/\/$/, '');
    const metricsText = () => getInside(ns, `${metricsUrl}/metrics`);
    return {
      daemon,
      pid,
      log,
      samples,
      marks: { starting: starting.time, synced: synced.time, watching: watching.time, apps: Number(synced.apps) },
      metricsText,
      metric: async (name) => sumMetric(await metricsText(), name),
      problems: () => logLines(log).filter((l) => WARN_LEVELS.has(l.level)).map((l) => `${l.msg}${l.err ? `: ${String(l.err)}` : ''}`),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Samples of `name` in Prometheus text (how many series it has). */
export function seriesCount(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).length;
}

export interface SentReviews {
  byKind: Record<string, number[]>;
  failures: number;
  wrongAnswers: Record<string, number>;
  examples: Record<string, string>;
}

/** Runs the review sender in the benchmark namespace and waits for its result. */
export async function sendReviews(ns: BenchNetns, planFile: string, resultFile: string, timeoutMs: number): Promise<SentReviews> {
  const [cmd, ...args] = ns.enter([process.execPath, script('bench', 'scale', 'review-sender.js'), planFile, resultFile]);
  const child = spawn(cmd!, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the review sender did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`the review sender exited with code ${code}`);
  return JSON.parse(readFileSync(resultFile, 'utf8')) as SentReviews;
}
