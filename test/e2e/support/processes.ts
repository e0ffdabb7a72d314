// Processes an e2e test starts next to the control plane (the webhook, a controller): the compiled
// CLI run inside the cluster's network namespace (so they reach pods and the API server as the
// control plane does), logged to a file, and always stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { logDir } from '../../../scripts/cluster/paths.js';
import { rainbowCommand } from '../../../scripts/cluster/rainbow-command.js';
import { execArgs } from '../../../scripts/cluster/control-plane.js';
import { insidePort } from '../../../scripts/cluster/network/portal.js';

export interface LocalProcess {
  proc: ChildProcess;
  pid: number;
  log: string;
  output(): string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export function startRainbow(name: string, args: string[], env: NodeJS.ProcessEnv = {}): LocalProcess {
  const dir = path.join(logDir, 'e2e');
  mkdirSync(dir, { recursive: true });
  const log = path.join(dir, `${name}-${Date.now()}.log`);
  const fd = openSync(log, 'a');
  const rainbow = rainbowCommand();
  const [cmd, ...argv] = execArgs([rainbow.node, ...rainbow.args, ...args]);
  const proc = spawn(cmd!, argv, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, RAINBOW_LOG_LEVEL: 'debug', ...env },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    pid: proc.pid!,
    log,
    output: () => readFileSync(log, 'utf8'),
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A port for a process inside the cluster namespace. */
export const freePort = async (): Promise<number> => insidePort();
