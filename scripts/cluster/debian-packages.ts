// Commands the local tooling needs from Debian packages: installed with apt-get when running as
// root (CI, containers), else named in the error so that a user can install them.
import { spawnSync } from 'node:child_process';
import { progress } from './progress.js';

export interface RequiredCommand {
  command: string;
  pkg: string;
}

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
export const isRoot = (): boolean => process.getuid?.() === 0;

/** Installs the packages of missing commands when root (Debian), else throws naming them for `purpose`. */
export function ensureCommands(required: readonly RequiredCommand[], purpose: string): void {
  const missing = required.filter((r) => !has(r.command));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  const what = `${missing.map((m) => m.command).join(', ')} (Debian package${pkgs.length > 1 ? 's' : ''} ${pkgs.join(', ')})`;
  if (!isRoot() || !has('apt-get')) {
    throw new Error(`${purpose} needs ${what}; install ${pkgs.length > 1 ? 'them' : 'it'} (sudo apt-get install ${pkgs.join(' ')}) and run this again`);
  }
  progress(`installing ${what} with apt-get`);
  const apt = (args: string[]) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!apt(['install', '-y', '-qq', ...pkgs]) && !(apt(['update', '-qq']) && apt(['install', '-y', '-qq', ...pkgs]))) {
    throw new Error(`apt-get could not install ${pkgs.join(', ')}; install ${pkgs.length > 1 ? 'them' : 'it'} by hand and run this again`);
  }
}
