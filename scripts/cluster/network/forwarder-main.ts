// The host side of a local cluster: on its host loopback address it listens on the API server's
// port and on every NodePort of every Service, and carries each connection through the portal to
// the same port on the Node's address inside the sealed namespace, where kube-proxy takes over.
// Nothing else of the cluster is reachable from the host.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Service } from '@kubernetes/client-node';
import { startInformer } from '../../../webhook/src/kube/informer.js';
import { apiClient } from '../../../webhook/src/kube/client.js';
import { dialCluster, splice } from './portal.js';
import { API_PORT, NODE_IP } from './plan.js';

const { values } = parseArgs({ options: { host: { type: 'string' }, portal: { type: 'string' }, kubeconfig: { type: 'string' } } });
if (!values.host || !values.portal || !values.kubeconfig) throw new Error('forwarder: --host, --portal and --kubeconfig are required');
const host = values.host;
const portal = values.portal;
const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

const listeners = new Map<number, { server: net.Server; owner: string }>();

function forward(port: number, owner: string): void {
  // No Nagle: small requests and answers (the API server's) go on at once, as they would unforwarded.
  const server = net.createServer({ noDelay: true }, (client) => splice(client, dialCluster(NODE_IP, port, portal)));
  server.on('error', (err) => {
    log(`${owner}: cannot listen on ${host}:${port}: ${err.message}`);
    listeners.delete(port);
  });
  server.listen(port, host, () => log(`${owner}: ${host}:${port} → ${NODE_IP}:${port} inside the cluster`));
  listeners.set(port, { server, owner });
}

function close(port: number): void {
  const l = listeners.get(port);
  if (!l) return;
  listeners.delete(port);
  l.server.close();
  log(`${l.owner}: stopped forwarding ${host}:${port}`);
}

forward(API_PORT, 'kube-apiserver');

const key = (s: V1Service) => `service ${s.metadata?.namespace}/${s.metadata?.name}`;
const nodePorts = (s: V1Service): number[] =>
  s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer'
    ? (s.spec.ports ?? []).filter((p) => p.nodePort && (p.protocol ?? 'TCP') === 'TCP').map((p) => p.nodePort!)
    : [];

function sync(s: V1Service, gone = false): void {
  const owner = key(s);
  const wanted = new Set(gone ? [] : nodePorts(s));
  for (const [port, l] of listeners) if (l.owner === owner && !wanted.has(port)) close(port);
  for (const port of wanted) if (!listeners.has(port)) forward(port, owner);
}

const kc = new KubeConfig();
kc.loadFromFile(values.kubeconfig);
const core = apiClient(kc, CoreV1Api);
const services = startInformer<V1Service>(kc, '/api/v1/services', () => core.listServiceForAllNamespaces(), {
  onError: (err, ms) => log(`service watch error (${(err as Error)?.message ?? err}); relisting in ${ms} ms`),
});
services.informer.on('add', (s) => sync(s));
services.informer.on('update', (s) => sync(s));
services.informer.on('delete', (s) => sync(s, true));
await services.synced;
log('forwarder ready');

// Open connections die with the process.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
