// The kube-proxy part of the simulated node: every NodePort Service gets a listener on
// 127.0.0.1:<nodePort> that sends each new connection to one Ready pod matching the Service's
// selector (round robin), as kube-proxy does from EndpointSlices. Existing connections stay with
// the pod they were sent to, which is exactly what rainbow's drain relies on. (EndpointSlices
// themselves cannot list 127.x addresses: the API server refuses loopback endpoints.)
import net from 'node:net';
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { resolvePort } from './probes.js';

export interface ServiceProxyDeps {
  pods: () => ReadonlyArray<V1Pod>;
  log: (message: string) => void;
}

interface Listener {
  server: net.Server;
  serviceKey: string;
  port: V1ServicePort;
  next: number;
}

function isReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && !!p.status?.podIP && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export class ServiceProxy {
  private readonly listeners = new Map<number, Listener>();
  private readonly services = new Map<string, V1Service>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly deps: ServiceProxyDeps) {}

  /** Ready pods behind a Service, each with the address a connection to `port` goes to. */
  backends(svc: V1Service, port: V1ServicePort): { pod: string; ip: string; port: number }[] {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    return this.deps
      .pods()
      .filter((p) => p.metadata?.namespace === svc.metadata?.namespace && matches(selector, p.metadata?.labels) && isReady(p))
      .flatMap((p) => {
        const target = port.targetPort ?? port.port;
        const containers = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])];
        const n = containers.map((c) => resolvePort(target as number | string, c)).find((x) => x !== undefined);
        return n === undefined ? [] : [{ pod: p.metadata!.name!, ip: p.status!.podIP!, port: n }];
      })
      .sort((a, b) => a.pod.localeCompare(b.pod));
  }

  upsert(svc: V1Service): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    this.services.set(key, svc);
    const wanted = new Map<number, V1ServicePort>();
    if (svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer') {
      for (const p of svc.spec.ports ?? []) if (p.nodePort && (p.protocol ?? 'TCP') === 'TCP') wanted.set(p.nodePort, p);
    }
    for (const [nodePort, l] of this.listeners) if (l.serviceKey === key && !wanted.has(nodePort)) this.close(nodePort);
    for (const [nodePort, port] of wanted) {
      const existing = this.listeners.get(nodePort);
      if (existing) existing.port = port;
      else this.listen(key, nodePort, port);
    }
  }

  remove(svc: V1Service): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    this.services.delete(key);
    for (const [nodePort, l] of this.listeners) if (l.serviceKey === key) this.close(nodePort);
  }

  private listen(serviceKey: string, nodePort: number, port: V1ServicePort): void {
    const l: Listener = { server: net.createServer(), serviceKey, port, next: 0 };
    l.server.on('connection', (client) => this.forward(l, client));
    l.server.on('error', (err) => this.deps.log(`service ${serviceKey}: cannot listen on 127.0.0.1:${nodePort}: ${err.message}`));
    l.server.listen(nodePort, '127.0.0.1', () => this.deps.log(`service ${serviceKey}: node port 127.0.0.1:${nodePort} → port ${port.name ?? port.port}`));
    this.listeners.set(nodePort, l);
  }

  private forward(l: Listener, client: net.Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    const svc = this.services.get(l.serviceKey);
    const backends = svc ? this.backends(svc, l.port) : [];
    if (backends.length === 0) {
      client.destroy();
      return;
    }
    const b = backends[l.next++ % backends.length];
    const upstream = net.connect({ host: b.ip, port: b.port });
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', end);
    upstream.once('error', end);
    client.once('close', end);
    upstream.once('close', end);
  }

  private close(nodePort: number): void {
    this.listeners.get(nodePort)?.server.close();
    this.listeners.delete(nodePort);
  }

  stop(): void {
    for (const nodePort of [...this.listeners.keys()]) this.close(nodePort);
    for (const s of this.sockets) s.destroy();
  }
}
