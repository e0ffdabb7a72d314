// `rainbow controller`: promotes pending colors once Available, stamps and cleans up drained
// colors, emits Events and metrics; with --leader-elect only the Lease holder acts.
import { existsSync, readFileSync } from 'node:fs';
import { loadKubeConfig } from '../kube/client.js';
import { createLeaderElector, defaultIdentity, kubeLeaseApi, LEASE_NAME, type LeaderElector } from './leader.js';
import { informerSource, kubeControllerApi } from './kube-io.js';
import { createControllerLoop } from './loop.js';
import { createControllerMetrics, startMetricsServer } from './metrics.js';
import { createLogger } from '../runtime/log.js';
import { UsageError, bindAddress, durationFlag, parseFlags, portNumber } from '../runtime/flags.js';
import { onShutdown } from '../runtime/shutdown.js';

const HELP = `usage: rainbow controller [flags]

  --kubeconfig FILE        cluster credentials (default: KUBECONFIG, ~/.kube/config, then in-cluster)
  --namespace a,b          watch only these namespaces (default: all)
  --interval 10s           how often drained colors are checked (pods asked for connections)
  --pod-timeout 2s         timeout of one pod's /connections answer
  --leader-elect           act only while holding the Lease ${LEASE_NAME} (run several replicas safely)
  --lease-namespace NS     namespace of the Lease (default: env POD_NAMESPACE, the ServiceAccount's, else default)
  --identity ID            this replica's name in the Lease (default: hostname-pid)
  --metrics-port 9090      /metrics, /healthz and /readyz (0: any free port)
  --bind ADDRESS           listen address (default: env RAINBOW_BIND_ADDRESS, else all interfaces)`;

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function leaseNamespace(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  if (existsSync(SA_NAMESPACE_FILE)) return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || 'default';
  return 'default';
}

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(
    'controller',
    args,
    {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      interval: { type: 'string' },
      'pod-timeout': { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'lease-namespace': { type: 'string' },
      identity: { type: 'string' },
      'metrics-port': { type: 'string' },
      bind: { type: 'string' },
    },
    HELP,
  );
  const intervalMs = durationFlag('rainbow controller', 'interval', flags.interval ?? '10s') * 1000;
  if (intervalMs < 100) throw new UsageError(`rainbow controller: --interval must be at least 100ms, got ${flags.interval}`);
  const podTimeoutMs = durationFlag('rainbow controller', 'pod-timeout', flags['pod-timeout'] ?? '2s') * 1000;
  if (podTimeoutMs <= 0) throw new UsageError('rainbow controller: --pod-timeout must be positive');
  const metricsPort = portNumber('controller', 'metrics-port', flags['metrics-port'] ?? '9090');
  const namespaces = (flags.namespace ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const identity = flags.identity ?? defaultIdentity();

  const log = createLogger({ name: 'controller' });
  const kc = loadKubeConfig(flags.kubeconfig);
  const metrics = createControllerMetrics({ processMetrics: true });

  let elector: LeaderElector | undefined;
  const isLeader = () => (elector ? elector.isLeader() : true);
  const loop = createControllerLoop({
    source: informerSource(kc, namespaces),
    api: kubeControllerApi(kc),
    intervalMs,
    podTimeoutMs,
    isLeader,
    identity,
    log,
    metrics,
  });
  const server = await startMetricsServer({
    registry: metrics.registry,
    port: metricsPort,
    bind: bindAddress(flags.bind),
    ready: () => loop.synced(),
    onDropped: (d) => log.warn(d, `metrics server: connections dropped at accept: ${d.maxConnections} already open; ${d.reason}`),
  });

  if (flags['leader-elect']) {
    elector = createLeaderElector({
      api: kubeLeaseApi(kc),
      namespace: leaseNamespace(flags['lease-namespace']),
      identity,
      log,
      onStartedLeading: () => loop.leadershipChanged(true),
      onStoppedLeading: () => loop.leadershipChanged(false),
    });
  } else {
    metrics.leader.set(1);
  }

  log.info(
    { cluster: kc.getCurrentCluster()?.server, namespaces: namespaces.length ? namespaces : 'all', intervalMs, identity, leaderElect: Boolean(elector), metrics: server.url },
    'rainbow controller starting',
  );
  // No new work, wait for the steps in flight (still under the Lease), then release it.
  onShutdown([() => loop.stop(), () => elector?.stop(), () => server.close(), () => log.info('stopped')], {
    log: (signal) => log.info({ signal }, 'shutting down'),
    onError: (err) => log.error({ err }, 'shutdown step failed'),
  });

  elector?.start();
  await loop.start();
  log.info('watching');
}
