// `rainbow doctor` (also `kubectl rainbow doctor`): checks what rainbow relies on in this cluster
// — the Service datapath, conntrack, load balancers, NetworkPolicies, rainbow itself, the apps —
// and says for each what it found and what to do. Exit 0 all ok, 1 warnings, 2 failures.
import { loadKubeConfig } from '../../kube/client.js';
import { UsageError, durationFlag, parseFlags } from '../../runtime/flags.js';
import { runChecks } from './checks.js';
import { formatJson, formatTable } from './format.js';
import { wantsColor } from '../format.js';
import { DEFAULT_RELEASE, DEFAULT_SYSTEM_NAMESPACE, gatherDoctorInput } from './gather.js';
import { exitCode } from './result.js';
import { checkNamespaceFlags, namespaceScope } from '../scope.js';

export function help(prog = 'rainbow doctor'): string {
  return `usage: ${prog} [flags]

Checks what rainbow deploys rely on in this cluster, with your kubeconfig, and prints each check
as ok, warn or fail with what it found and the fix:
  datapath          what kube-proxy, Cilium or Calico do to an established flow when a
                    Service's selector moves away from pods that keep running
  conntrack         kube-proxy's conntrack TCP established timeout against each app's max-drain
  load balancers    AWS NLB deregistration and GKE BackendConfig draining against max-drain
  network policies  whether policies let rainbow's webhook and controller reach the connections port
  rainbow           webhook configurations, their CA, webhook endpoints, the controller's Lease,
                    the webhook's version against this CLI's
  apps              Services that select every color, colors past max-drain with connections,
                    pods whose connections cannot be read

  -n, --namespace NS        apps in this namespace (default: the kubeconfig context's, else default)
  -A, --all-namespaces      apps in every namespace
  -o, --output FORMAT       table (default) or json
      --release NAME        the rainbow-system Helm release (default ${DEFAULT_RELEASE})
      --system-namespace NS where it runs (default: the webhook configurations' Service
                            namespace, else ${DEFAULT_SYSTEM_NAMESPACE})
      --pod-timeout 2s      timeout of one pod's /connections answer
      --direct              ask pod IPs directly instead of through the API server's pod proxy
      --kubeconfig FILE     cluster credentials (default: KUBECONFIG, ~/.kube/config, then in-cluster)

A read your credentials may not do is a warning that names the verb and resource, never an error.
Exit status: 0 every check ok, 1 a warning (or doctor itself failed), 2 a failure (or a usage
error). Colors only on a terminal, never when NO_COLOR is set.`;
}

export async function run(args: string[], prog = 'rainbow doctor'): Promise<void> {
  const command = prog.replace(/^(kubectl )?rainbow /, '');
  const flags = parseFlags(
    command,
    args,
    {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      release: { type: 'string' },
      'system-namespace': { type: 'string' },
      'pod-timeout': { type: 'string' },
      direct: { type: 'boolean' },
      kubeconfig: { type: 'string' },
    },
    help(prog),
  );
  const output = flags.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`${prog}: --output must be table or json, got ${JSON.stringify(output)}`);
  checkNamespaceFlags(prog, flags);
  const podTimeoutMs = durationFlag(prog, 'pod-timeout', flags['pod-timeout'] ?? '2s') * 1000;

  const kc = loadKubeConfig(flags.kubeconfig);
  const namespace = namespaceScope(flags, kc);
  const input = await gatherDoctorInput(kc, {
    ...(namespace ? { namespace } : {}),
    ...(flags.release ? { release: flags.release } : {}),
    ...(flags['system-namespace'] ? { systemNamespace: flags['system-namespace'] } : {}),
    podTimeoutMs,
    direct: Boolean(flags.direct),
  });
  const results = runChecks(input);
  const meta = { generatedAt: input.now, cliVersion: input.cliVersion, ...(namespace ? { namespace } : {}) };
  process.stdout.write(
    output === 'json'
      ? formatJson(results, meta)
      : formatTable(results, { color: wantsColor(process.stdout.isTTY, process.env), width: process.stdout.isTTY ? (process.stdout.columns ?? 100) : 100 }),
  );
  process.exitCode = exitCode(results);
}
