// Objects shaped like chart/rainbow-app renders them, for the e2e tests and the benchmarks:
// Deployment <app>-<color> running the demo app with the reporter as a native sidecar, and the
// app's Service selecting a color.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';

export interface ColorOptions {
  replicas?: number;
  /** Seconds before the readiness probe first runs: keeps a color un-Available for a while. */
  readyAfterSeconds?: number;
  annotations?: Record<string, string>;
  /** Ports the reporter counts (default 8080,8081); 8081 alone leaves out the readiness probes' connections. */
  countedPorts?: string;
  /** The project's image as the node simulator names it (default rainbow:e2e). */
  image?: string;
  /** Default 5. */
  terminationGracePeriodSeconds?: number;
}

export function colorDeployment(app: string, color: string, opts: ColorOptions = {}): V1Deployment {
  const labels = { 'rainbow.dev/app': app, 'rainbow.dev/color': color };
  return {
    metadata: { name: `${app}-${color}`, labels, annotations: opts.annotations },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds ?? 5,
          initContainers: [
            {
              name: 'reporter',
              image: opts.image ?? 'rainbow:e2e',
              restartPolicy: 'Always',
              args: ['reporter', '--ports', opts.countedPorts ?? '8080,8081', '--pod-ip', '$(POD_IP)'],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              ports: [{ name: 'connections', containerPort: 9471 }],
              readinessProbe: { httpGet: { path: '/connections', port: 9471 }, periodSeconds: 1 },
            },
          ],
          containers: [
            {
              name: 'app',
              image: opts.image ?? 'rainbow:e2e',
              args: ['app'],
              env: [{ name: 'RAINBOW_COLOR', value: color }],
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'tcp', containerPort: 8081 },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, initialDelaySeconds: opts.readyAfterSeconds ?? 0 },
            },
          ],
        },
      },
    },
  };
}

/** `type` ClusterIP: no node ports are taken. */
export function appService(app: string, color: string, annotations: Record<string, string> = {}, type: 'NodePort' | 'ClusterIP' = 'NodePort'): V1Service {
  return {
    metadata: { name: app, labels: { 'rainbow.dev/app': app }, annotations },
    spec: {
      type,
      selector: { 'rainbow.dev/app': app, 'rainbow.dev/color': color },
      ports: [
        { name: 'http', port: 8080, targetPort: 'http' },
        { name: 'tcp', port: 8081, targetPort: 'tcp' },
      ],
    },
  };
}
