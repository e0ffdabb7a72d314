// `node portal-main.js --socket PATH`: the portal daemon, started inside the cluster namespace.
import { parseArgs } from 'node:util';
import { servePortal } from './portal.js';

const { values } = parseArgs({ options: { socket: { type: 'string' } } });
if (!values.socket) throw new Error('portal: --socket is required');
const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
const server = await servePortal(values.socket, log);
log(`portal listening on ${values.socket}`);
// Open connections die with the process, as a node's would.
const stop = () => {
  server.unref();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
