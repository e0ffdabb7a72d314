// An ObjectSource held in memory, for the loop's tests: `put` and `remove` update it and notify
// the loop as a watch would.
import type { KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ObjectEvent, ObjectSource, SourceHandlers } from '../../../webhook/src/controller/kube-io.js';

export interface MemorySource extends ObjectSource {
  put(obj: V1Service | V1Deployment): void;
  remove(obj: V1Service | V1Deployment): void;
}

export function memorySource(initial: ReadonlyArray<V1Service | V1Deployment> = []): MemorySource {
  const services = new Map<string, V1Service>();
  const deployments = new Map<string, V1Deployment>();
  let handlers: SourceHandlers | undefined;
  const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const isService = (o: V1Service | V1Deployment): o is V1Service => o.kind === 'Service' || (o.kind === undefined && 'ports' in (o.spec ?? {}));
  const put = (o: V1Service | V1Deployment, notify: boolean) => {
    if (isService(o)) {
      const event: ObjectEvent = services.has(key(o)) ? 'update' : 'add';
      services.set(key(o), o);
      if (notify) handlers?.onService(o, event);
    } else {
      const event: ObjectEvent = deployments.has(key(o)) ? 'update' : 'add';
      deployments.set(key(o), o as V1Deployment);
      if (notify) handlers?.onDeployment(o as V1Deployment, event);
    }
  };
  for (const o of initial) put(o, false);
  const inNs = <T extends KubernetesObject>(m: Map<string, T>, ns?: string) => [...m.values()].filter((o) => !ns || o.metadata?.namespace === ns);
  return {
    async start(h) {
      handlers = h;
    },
    services: (ns) => inNs(services, ns),
    deployments: (ns) => inNs(deployments, ns),
    async stop() {
      handlers = undefined;
    },
    put: (o) => put(o, true),
    remove(o) {
      if (isService(o)) {
        if (services.delete(key(o))) handlers?.onService(o, 'delete');
      } else if (deployments.delete(key(o))) handlers?.onDeployment(o as V1Deployment, 'delete');
    },
  };
}
