// `rainbow dashboard` (also `kubectl rainbow dashboard`): a local web page of every app's colors,
// their connections over time and the controller's Events, read with the caller's kubeconfig
// exactly as `rainbow status` reads them.
import { colorStatesHelp } from '../../domain/color-states.js';
import { loadKubeConfig } from '../../kube/client.js';
import { bindAddress, durationFlag, parseFlags, portNumber } from '../../runtime/flags.js';
import { onShutdown } from '../../runtime/shutdown.js';
import { collectStatus } from '../collect.js';
import { kubeEventLister } from './read-events.js';
import { startDashboard } from './start.js';
import { checkNamespaceFlags, namespaceScope } from '../scope.js';

export const DEFAULT_PORT = 3100;
export const DEFAULT_BIND = '127.0.0.1';

export function help(prog = 'rainbow dashboard'): string {
  return `usage: ${prog} [flags]

Serves a live web page of every rainbow app: its Services, its colors (state, ready pods,
connections now and over time, drain deadline) and the controller's recent Events, read with
your kubeconfig as \`rainbow status\` reads them. Open the URL it prints; Ctrl-C stops it.

states:
${colorStatesHelp()}

      --port 3100        where the page is served (0: any free port)
      --bind 127.0.0.1   listen address (default: env RAINBOW_BIND_ADDRESS, else 127.0.0.1)
  -n, --namespace NS     namespace (default: the kubeconfig context's, else default)
  -A, --all-namespaces   every namespace
      --interval 2s      how often the cluster is read and the connections sampled
      --pod-timeout 2s   timeout of one pod's /connections answer
      --direct           ask pod IPs directly instead of through the API server's pod proxy
      --kubeconfig FILE  cluster credentials (default: KUBECONFIG, ~/.kube/config, then in-cluster)

Needs what \`rainbow status\` needs (list services, deployments and pods; get pods/proxy unless
--direct) plus list events, in the namespace shown (cluster-wide with -A).`;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

export async function run(args: string[], prog = 'rainbow dashboard'): Promise<void> {
  const flags = parseFlags(
    'dashboard',
    args,
    {
      port: { type: 'string' },
      bind: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      interval: { type: 'string' },
      'pod-timeout': { type: 'string' },
      direct: { type: 'boolean' },
      kubeconfig: { type: 'string' },
    },
    help(prog),
  );
  checkNamespaceFlags(prog, flags);
  const port = portNumber('dashboard', 'port', flags.port ?? String(DEFAULT_PORT));
  const bind = bindAddress(flags.bind) ?? DEFAULT_BIND;
  const intervalMs = Math.max(500, durationFlag(prog, 'interval', flags.interval ?? '2s') * 1000);
  const podTimeoutMs = durationFlag(prog, 'pod-timeout', flags['pod-timeout'] ?? '2s') * 1000;

  const kc = loadKubeConfig(flags.kubeconfig);
  const namespace = namespaceScope(flags, kc);
  const context = kc.getCurrentContext();
  const scope = `${context ? `context ${context} · ` : ''}${namespace ? `namespace ${namespace}` : 'all namespaces'}`;
  const every = `${intervalMs / 1000}s`;

  const dashboard = await startDashboard({
    collect: () => collectStatus(kc, { ...(namespace ? { namespace } : {}), podTimeoutMs, direct: Boolean(flags.direct) }),
    listEvents: kubeEventLister(kc, namespace),
    port,
    bind,
    intervalMs,
    scope,
    prog,
    onReadError: (message) =>
      process.stderr.write(message ? `${prog}: ${message} (the page says so too; retrying every ${every})\n` : `${prog}: reading the cluster works again\n`),
  });
  process.stdout.write(`${prog}: ${dashboard.url} (${scope}, sampling every ${every}); open it in a browser, Ctrl-C to stop\n`);
  if (!LOOPBACK.test(bind)) {
    process.stderr.write(`${prog}: listening on ${bind}: anyone who reaches this address sees what your credentials can read; --bind 127.0.0.1 keeps it on this machine\n`);
  }
  onShutdown([() => dashboard.close()], { log: () => process.stderr.write(`${prog}: stopping\n`) });
}
