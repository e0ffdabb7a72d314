// `rainbow app`: the demo app (source in app/src). Color from RAINBOW_COLOR (set by the chart)
// or COLOR (baked into an image at build time).
import { startDemoApp } from '../../../app/src/demo-app.js';
import { ENV_COLOR, isValidColor } from '../domain/contract.js';
import { UsageError, bindAddress, parseFlags, portNumber } from '../runtime/flags.js';
import { onShutdown } from '../runtime/shutdown.js';

const HELP = `usage: rainbow app [--http-port 8080] [--tcp-port 8081] [--bind ADDRESS]

The demo app: http://<address>:8080 shows a page in the color; a TCP connection to :8081 prints
"The color is #xxxxxx" every 5 s until it closes. The color comes from ${ENV_COLOR} (or COLOR).
On SIGTERM it stops accepting and waits for open streams to close.`;

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags('app', args, { 'http-port': { type: 'string' }, 'tcp-port': { type: 'string' }, bind: { type: 'string' } }, HELP);
  const color = process.env[ENV_COLOR] || process.env.COLOR;
  if (!color) throw new UsageError(`rainbow app: no color: set ${ENV_COLOR} (the rainbow-app chart does) or COLOR`);
  if (!isValidColor(color)) throw new UsageError(`rainbow app: color ${JSON.stringify(color)} is not a DNS-label-safe string of at most 40 characters`);
  const app = await startDemoApp({
    color,
    bind: bindAddress(flags.bind),
    httpPort: portNumber('app', 'http-port', flags['http-port'] ?? '8080'),
    tcpPort: portNumber('app', 'tcp-port', flags['tcp-port'] ?? '8081'),
  });
  const where = bindAddress(flags.bind) ?? '*';
  console.log(JSON.stringify({ level: 'info', msg: 'demo app serving', color, http: `${where}:${app.httpPort}`, tcp: `${where}:${app.tcpPort}` }));
  onShutdown([() => app.shutdown()], {
    log: (signal) => console.log(JSON.stringify({ level: 'info', msg: `${signal}: no new connections; waiting for ${app.streams()} open stream(s) to close` })),
  });
}
