// Starting and stopping the control plane's daemons: detached, logging to files, tracked by PID.
import { execFile, spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a short command, `input` on its stdin; rejects with what it printed on stderr, naming where it ran. */
export async function runCommand(argv: string[], opts: { input?: string; where?: string } = {}): Promise<string> {
  try {
    const p = execFileAsync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 << 20 });
    if (opts.input !== undefined) p.child.stdin?.end(opts.input);
    return (await p).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}${opts.where ? ` ${opts.where}` : ''} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** The command name of a running process (/proc/PID/comm), undefined once it is gone. */
export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export interface Daemon {
  name: string;
  pid: number;
  log: string;
  /** Start time of the process (field 22 of /proc/PID/stat), so a recycled PID is never mistaken for ours. */
  startTicks: string;
  /** How it was started, so that it can be started again the same way (restartDaemon). */
  cmd?: string;
  args?: string[];
}

export function startDaemon(name: string, cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd}); see ${log}`);
    child.unref();
    return { name, pid: child.pid, log, startTicks: startTicksOf(child.pid) ?? '', cmd, args };
  } finally {
    closeSync(fd);
  }
}

/** Field 22 of /proc/PID/stat: when the process started, to tell it from a later one with its PID. */
export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after the closing parenthesis are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the PID still runs the process we started (and is not a zombie). */
export function isRunning(d: Pick<Daemon, 'pid' | 'startTicks'>): boolean {
  try {
    const stat = readFileSync(`/proc/${d.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && (d.startTicks === '' || startTicksOf(d.pid) === d.startTicks);
  } catch {
    return false;
  }
}

/** SIGTERM (or `signal`), wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function stopDaemon(d: Daemon, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isRunning(d)) return 'not-running';
  process.kill(d.pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(d)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(d.pid, 'SIGKILL');
  } catch {
    /* exited meanwhile */
  }
  while (isRunning(d)) await sleep(50);
  return 'killed';
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
