// A record on disk of every container process the simulator started, so that
// `scripts/local-cluster down` can stop them by PID even if the simulator itself died.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from '../paths.js';
import type { Daemon } from '../processes.js';

export const podProcessDir = path.join(stateDir, 'pod-processes');

export function recordPodProcess(p: Daemon): void {
  mkdirSync(podProcessDir, { recursive: true });
  writeFileSync(path.join(podProcessDir, String(p.pid)), JSON.stringify(p));
}

export function forgetPodProcess(pid: number): void {
  rmSync(path.join(podProcessDir, String(pid)), { force: true });
}

export function readPodProcesses(): Daemon[] {
  let names: string[];
  try {
    names = readdirSync(podProcessDir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    try {
      return [JSON.parse(readFileSync(path.join(podProcessDir, n), 'utf8')) as Daemon];
    } catch {
      return [];
    }
  });
}
