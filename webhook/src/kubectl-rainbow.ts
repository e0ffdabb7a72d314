#!/usr/bin/env node
// `kubectl rainbow …`: kubectl runs any `kubectl-rainbow` on the PATH as its `rainbow` plugin.
// `kubectl rainbow <command> …` is `rainbow <command> …`, for status, dashboard and doctor.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exitFor } from './runtime/flags.js';
import { COLOR_STATES } from './domain/color-states.js';

const PLUGIN_COMMANDS: Record<string, string> = {
  status: `colors of each app (${COLOR_STATES.join(', ')}), ready pods, live connections, drain deadline`,
  dashboard: 'a local web page of every app: colors, connections over time, Events (live)',
  doctor: 'checks the datapath, load balancers, policies, rainbow and the apps: ok/warn/fail with the fix',
};

export function pluginUsage(): string {
  const width = Math.max(...Object.keys(PLUGIN_COMMANDS).map((n) => n.length));
  const lines = Object.entries(PLUGIN_COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return `usage: kubectl rainbow <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nrun \`kubectl rainbow <command> --help\` for a command's flags.`;
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(pluginUsage());
    return;
  }
  if (name === 'dashboard') {
    const { run } = await import('./status/dashboard/main.js');
    await run(rest, 'kubectl rainbow dashboard');
    return;
  }
  if (name === 'doctor') {
    const { run } = await import('./status/doctor/main.js');
    await run(rest, 'kubectl rainbow doctor');
    return;
  }
  if (name !== 'status') {
    console.error(`kubectl rainbow: unknown command "${name}"\n\n${pluginUsage()}`);
    process.exitCode = 2;
    return;
  }
  const { run } = await import('./status/main.js');
  await run(rest, 'kubectl rainbow status');
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.exitCode = exitFor('kubectl rainbow', err, { stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
  });
}
