// The environment kubelet gives every container for the Services it can see (enableServiceLinks):
// the `kubernetes` Service of `default` always, and every Service of the pod's own namespace. In-
// cluster clients find the API server through KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.
import type { V1Pod, V1Service } from '@kubernetes/client-node';

const envName = (name: string) => name.toUpperCase().replace(/-/g, '_');

function linksOf(svc: V1Service): Record<string, string> {
  const ip = svc.spec?.clusterIP;
  const ports = svc.spec?.ports ?? [];
  if (!ip || ip === 'None' || ports.length === 0) return {};
  const n = envName(svc.metadata!.name!);
  const first = ports[0]!;
  const proto = (first.protocol ?? 'TCP').toLowerCase();
  const env: Record<string, string> = {
    [`${n}_SERVICE_HOST`]: ip,
    [`${n}_SERVICE_PORT`]: String(first.port),
    [`${n}_PORT`]: `${proto}://${ip}:${first.port}`,
  };
  for (const p of ports) {
    const pr = (p.protocol ?? 'TCP').toLowerCase();
    if (p.name) env[`${n}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    const base = `${n}_PORT_${p.port}_${pr.toUpperCase()}`;
    env[base] = `${pr}://${ip}:${p.port}`;
    env[`${base}_PROTO`] = pr;
    env[`${base}_PORT`] = String(p.port);
    env[`${base}_ADDR`] = ip;
  }
  return env;
}

/** Service environment for `pod` from the Services known to the node. */
export function serviceLinkEnv(pod: V1Pod, services: readonly V1Service[]): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  // By name, as kubelet does: a Service of the pod's namespace replaces default/kubernetes.
  const byName = new Map<string, V1Service>();
  for (const s of services) {
    const name = s.metadata?.name ?? '';
    if (s.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, s);
    } else if (s.metadata?.namespace === ns && links) byName.set(name, s);
  }
  return Object.assign({}, ...[...byName.values()].map(linksOf));
}
