// `rainbow status` (also `kubectl rainbow status`): the colors of each app, their state, ready
// pods, live connections, age and time left before max-drain.
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../kube/client.js';
import { colorStatesHelp } from '../domain/color-states.js';
import { collectStatus } from './collect.js';
import { formatJson, formatTables, wantsTrueColor } from './format.js';
import { HelpRequested, UsageError, durationFlag } from '../runtime/flags.js';
import { shutdownSignal } from '../runtime/shutdown.js';
import { checkNamespaceFlags, namespaceScope } from './scope.js';

export function help(prog = 'rainbow status'): string {
  return `usage: ${prog} [APP] [flags]

Shows every color of each rainbow app: state, ready/desired pods, established connections, age
and time left before max-drain.

states:
${colorStatesHelp()}

  -n, --namespace NS     namespace (default: the kubeconfig context's, else default)
  -A, --all-namespaces   every namespace
  -o, --output FORMAT    table (default) or json
  -w, --watch            refresh every --interval until interrupted (json: one document per line)
      --interval 2s      refresh period with --watch
      --pod-timeout 2s   timeout of one pod's /connections answer
      --direct           ask pod IPs directly instead of through the API server's pod proxy
      --kubeconfig FILE  cluster credentials (default: KUBECONFIG, ~/.kube/config, then in-cluster)

A swatch of each color is shown on terminals with COLORTERM=truecolor (or 24bit), never when
NO_COLOR is set or the output is not a terminal.`;
}

export async function run(args: string[], prog = 'rainbow status'): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
        output: { type: 'string', short: 'o' },
        watch: { type: 'boolean', short: 'w' },
        interval: { type: 'string' },
        'pod-timeout': { type: 'string' },
        direct: { type: 'boolean' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${prog}: ${(err as Error).message}\nrun \`${prog} --help\` for the flags.`);
  }
  const flags = parsed.values;
  if (flags.help) throw new HelpRequested(help(prog));
  if (parsed.positionals.length > 1) throw new UsageError(`${prog}: one APP at most, got ${parsed.positionals.join(' ')}`);
  const app = parsed.positionals[0];
  const output = flags.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`${prog}: --output must be table or json, got ${JSON.stringify(output)}`);
  checkNamespaceFlags(prog, flags);
  const podTimeoutMs = durationFlag(prog, 'pod-timeout', flags['pod-timeout'] ?? '2s') * 1000;
  const intervalMs = Math.max(500, durationFlag(prog, 'interval', flags.interval ?? '2s') * 1000);

  const kc = loadKubeConfig(flags.kubeconfig);
  const namespace = namespaceScope(flags, kc);
  const swatch = output === 'table' && wantsTrueColor(process.stdout.isTTY, process.env);
  const where = namespace ? `namespace ${namespace}` : 'any namespace';

  const once = async (): Promise<{ text: string; found: boolean }> => {
    const report = await collectStatus(kc, { namespace, app, podTimeoutMs, direct: Boolean(flags.direct) });
    const found = report.apps.length > 0;
    if (output === 'json') return { text: formatJson(report, Boolean(flags.watch)), found };
    if (!found) return { text: app ? `No app ${app} in ${where}.\n` : `No rainbow apps (objects labelled rainbow.dev/app) in ${where}.\n`, found };
    return { text: formatTables(report, { swatch }), found };
  };

  if (!flags.watch) {
    const { text, found } = await once();
    process.stdout.write(text);
    if (!found && app) process.exitCode = 1;
    return;
  }

  const clear = process.stdout.isTTY && output === 'table';
  const stopped = shutdownSignal();
  while (!stopped.aborted) {
    try {
      const { text } = await once();
      if (clear) process.stdout.write('\x1b[H\x1b[2J');
      else if (output === 'table') process.stdout.write(`--- ${new Date().toISOString()}\n`);
      process.stdout.write(text);
    } catch (err) {
      process.stderr.write(`${prog}: ${(err as Error).message}\n`);
    }
    const until = Date.now() + intervalMs;
    while (!stopped.aborted && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
  }
}
