// `rainbow reporter`: the sidecar in every app pod. Serves GET /connections with the count of
// ESTABLISHED TCP connections on the app's ports at the pod's own address.
import { startReporter } from './server.js';
import { DEFAULTS } from '../domain/contract.js';
import { bindAddress, parseFlags, portList, portNumber } from '../runtime/flags.js';
import { onShutdown } from '../runtime/shutdown.js';

const HELP = `usage: rainbow reporter --ports 8080,8081 [--port ${DEFAULTS.connectionsPort}] [--pod-ip IP] [--bind ADDRESS]

  --ports    the app's ports whose ESTABLISHED connections are counted (required)
  --port     where GET ${DEFAULTS.connectionsPath} is served (default ${DEFAULTS.connectionsPort})
  --pod-ip   count only sockets on this local address (default: env POD_IP; all addresses if unset)
  --bind     listen address (default: env RAINBOW_BIND_ADDRESS, else all interfaces)`;

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags('reporter', args, { ports: { type: 'string' }, port: { type: 'string' }, 'pod-ip': { type: 'string' }, bind: { type: 'string' } }, HELP);
  const ports = portList('reporter', 'ports', flags.ports ?? process.env.RAINBOW_APP_PORTS);
  const port = portNumber('reporter', 'port', flags.port ?? String(DEFAULTS.connectionsPort));
  const podIP = flags['pod-ip'] ?? (process.env.POD_IP || undefined);
  const reporter = await startReporter({
    port,
    ports,
    podIP,
    bind: bindAddress(flags.bind),
    onError: (err) => console.error(JSON.stringify({ level: 'error', msg: 'reading /proc/net failed', err: err.message })),
    onDropped: (d) => console.error(JSON.stringify({ level: 'warn', msg: `connections dropped at accept: ${d.maxConnections} already open; ${d.reason}`, ...d })),
  });
  console.log(JSON.stringify({ level: 'info', msg: 'reporter listening', url: reporter.url, ports, podIP: podIP ?? null }));
  onShutdown([() => reporter.close()], {
    onError: (err) => console.error(JSON.stringify({ level: 'error', msg: 'shutdown step failed', err: err instanceof Error ? err.message : String(err) })),
  });
}
