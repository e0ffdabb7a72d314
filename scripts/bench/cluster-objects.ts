// Objects the cluster benchmarks create: one color of an app (a Deployment whose pod runs the
// project's image as the reporter, Ready once it answers) and the app's Service selecting a color.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';

export interface BenchColorOptions {
  /** False: an image the node simulator cannot run, so the color stays Pending and never Available. */
  runnable?: boolean;
}

export function benchColor(app: string, color: string, opts: BenchColorOptions = {}): V1Deployment {
  const labels = { 'rainbow.dev/app': app, 'rainbow.dev/color': color };
  return {
    metadata: { name: `${app}-${color}`, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: opts.runnable === false ? 'registry.invalid/not-runnable:1' : 'rainbow:bench',
              args: ['reporter', '--ports', '8081'],
              readinessProbe: { httpGet: { path: '/connections', port: 9471 }, periodSeconds: 1, initialDelaySeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

export function benchService(app: string, color: string): V1Service {
  return {
    metadata: { name: app, labels: { 'rainbow.dev/app': app } },
    spec: { selector: { 'rainbow.dev/app': app, 'rainbow.dev/color': color }, ports: [{ name: 'http', port: 8081 }] },
  };
}
