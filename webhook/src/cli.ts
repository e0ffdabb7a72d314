#!/usr/bin/env -S node --single-threaded-gc
// `rainbow <role> [flags]`: one CLI, one image, every role. Each role has its folder and a main.ts
// and is loaded only when asked for, so `rainbow reporter` in every pod loads nothing else.
//
// --single-threaded-gc in the shebang: helper GC threads compete with reviews for the pod's CPU,
// and Node accepts the flag neither in NODE_OPTIONS nor at run time.
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { exitFor } from './runtime/flags.js';

interface Role {
  summary: string;
  load: () => Promise<{ run: (args: string[]) => Promise<void> }>;
}

export const ROLES: Record<string, Role> = {
  webhook: { summary: 'HTTPS admission server: Service cutover and the drain-aware delete guard', load: () => import('./webhook/main.js') },
  app: { summary: 'the demo app: a page in the color on :8080, "The color is #xxxxxx" every 5 s on :8081', load: () => import('./app/main.js') },
  reporter: { summary: "sidecar: counts ESTABLISHED TCP connections on the app's ports (GET /connections)", load: () => import('./reporter/main.js') },
  controller: { summary: 'promotes pending colors once Available, cleans up drained colors, emits Events; leader-elected', load: () => import('./controller/main.js') },
  status: { summary: 'colors of each app: state, ready pods, live connections, time left before max-drain', load: () => import('./status/main.js') },
  dashboard: { summary: 'a local web page of every app: colors, connections over time, Events (live)', load: () => import('./status/dashboard/main.js') },
  doctor: { summary: 'checks the datapath, load balancers, policies, rainbow and the apps: ok/warn/fail with the fix', load: () => import('./status/doctor/main.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(ROLES).map((r) => r.length));
  const lines = Object.entries(ROLES).map(([name, r]) => `  ${name.padEnd(width)}  ${r.summary}`);
  return `usage: rainbow <command> [flags]\n\nRainbow deploys for Kubernetes: every release its own color, drained by its connections.\n\ncommands:\n${lines.join('\n')}\n\nrun \`rainbow <command> --help\` for a command's flags.`;
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return;
  }
  const role = ROLES[name];
  if (!role) {
    console.error(`rainbow: unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  await (await role.load()).run(rest);
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.exitCode = exitFor('rainbow', err, { stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
  });
}
