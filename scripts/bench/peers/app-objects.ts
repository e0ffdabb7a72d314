// What the peers benchmark's plain strategies (a Deployment, Argo Rollouts) deploy: the demo app
// in one container (no reporter: nothing of theirs reads connections), a readiness probe every
// second as rainbow's chart is set to here, Kubernetes' default termination grace period (30 s),
// and the Service `app` with the demo's two ports. Also the check that a Service serves a
// version, which every strategy's deploy waits for.
import { DiscoveryV1Api, type V1PodTemplateSpec, type V1Service } from '@kubernetes/client-node';
import { colorOfPod, type PeerContext } from './strategy.js';

export function appPodTemplate(labels: Record<string, string>, color: string, image: string): V1PodTemplateSpec {
  return {
    metadata: { labels },
    spec: {
      containers: [
        {
          name: 'app',
          image,
          args: ['app'],
          env: [{ name: 'RAINBOW_COLOR', value: color }],
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'tcp', containerPort: 8081 },
          ],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
        },
      ],
    },
  };
}

export function appService(name: string, selector: Record<string, string>): V1Service {
  return {
    metadata: { name },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        { name: 'http', port: 8080, targetPort: 'http' },
        { name: 'tcp', port: 8081, targetPort: 'tcp' },
      ],
    },
  };
}

/**
 * The ready endpoints of Service `ctx.app` by pod, with each pod's color: what kube-proxy sends
 * new connections to.
 */
export async function servedBy(ctx: PeerContext): Promise<Array<{ ip: string; pod: string; color?: string }>> {
  const discovery = ctx.kc.makeApiClient(DiscoveryV1Api);
  const slices = await discovery.listNamespacedEndpointSlice({ namespace: ctx.namespace, labelSelector: `kubernetes.io/service-name=${ctx.app}` });
  const pods = new Map((await ctx.core.listNamespacedPod({ namespace: ctx.namespace })).items.map((p) => [p.metadata?.name ?? '', p]));
  const out: Array<{ ip: string; pod: string; color?: string }> = [];
  for (const sl of slices.items) {
    for (const e of sl.endpoints ?? []) {
      if (e.conditions?.ready !== true) continue;
      const pod = e.targetRef?.name ?? '';
      const p = pods.get(pod);
      for (const ip of e.addresses) if (!out.some((o) => o.ip === ip)) out.push({ ip, pod, color: p ? colorOfPod(p) : undefined });
    }
  }
  return out;
}

/** True when Service `ctx.app` sends to exactly `replicas` ready pods, all of color `color`. */
export async function serves(ctx: PeerContext, color: string, replicas: number): Promise<boolean> {
  const eps = await servedBy(ctx);
  return eps.length === replicas && eps.every((e) => e.color === color);
}
