// Promotion latency: from the moment a pending color's Deployment is seen Available to the moment
// the Service is seen selecting it, both observed through one watch connection of this process,
// with `rainbow controller` running as a local process against the local cluster. The webhook's
// part (writing rainbow.dev/pending-color) is done here directly, so only the controller is timed.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { up } from '../cluster/control-plane.js';
import { kubeconfigPath } from '../cluster/paths.js';
import { rainbowCommand } from '../cluster/rainbow-command.js';
import { benchColor, benchService } from './cluster-objects.js';
import { percentiles, round, type Percentiles } from './common.js';

export interface PromotionResult {
  iterations: number;
  ms: Percentiles;
  samples: number[];
}


export async function benchPromotion(iterations = 20, say: (l: string) => void = console.log): Promise<PromotionResult> {
  await up();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const ns = `bench-promotion-${Date.now().toString(36)}`;
  const app = 'bench';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const rainbow = rainbowCommand();
  const controller = spawn(
    rainbow.node,
    [...rainbow.args, 'controller', `--kubeconfig=${kubeconfigPath}`, `--namespace=${ns}`, '--interval=30s', '--metrics-port=0', '--bind=127.0.0.1'],
    { stdio: 'ignore', env: { ...process.env, RAINBOW_LOG_LEVEL: 'warn' } },
  );
  const available = new Map<string, number>();
  const switched = new Map<string, number>();
  const watch = new Watch(kc);
  const aborts: AbortController[] = [];
  try {
    aborts.push(
      await watch.watch(`/apis/apps/v1/namespaces/${ns}/deployments`, {}, (_t, d: V1Deployment) => {
        const color = d.metadata?.labels?.['rainbow.dev/color'];
        if (color && !available.has(color) && d.status?.availableReplicas === d.spec?.replicas && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1)) {
          available.set(color, performance.now());
        }
      }, () => undefined),
      await watch.watch(`/api/v1/namespaces/${ns}/services`, {}, (_t, s: V1Service) => {
        const color = s.spec?.selector?.['rainbow.dev/color'];
        if (color && !switched.has(color)) switched.set(color, performance.now());
      }, () => undefined),
    );
    const first = 'c00000';
    await apps.createNamespacedDeployment({ namespace: ns, body: benchColor(app, first) });
    await core.createNamespacedService({ namespace: ns, body: benchService(app, first) });
    const samples: number[] = [];
    let previous = first;
    for (let i = 1; i <= iterations; i++) {
      const color = `c${String(i).padStart(5, '0')}`;
      await apps.createNamespacedDeployment({ namespace: ns, body: benchColor(app, color) });
      // What the webhook does when Helm asks for a color that is not Available yet.
      await core.patchNamespacedService(
        { namespace: ns, name: app, body: { metadata: { annotations: { 'rainbow.dev/pending-color': color } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const deadline = Date.now() + 60_000;
      while (!(available.has(color) && switched.has(color))) {
        if (Date.now() > deadline) throw new Error(`color ${color}: no promotion within 60 s (available: ${available.has(color)}, switched: ${switched.has(color)})`);
        await sleep(20);
      }
      const ms = switched.get(color)! - available.get(color)!;
      samples.push(ms);
      say(`  ${color}: Available → Service switched in ${ms.toFixed(1)} ms`);
      await apps.deleteNamespacedDeployment({ namespace: ns, name: `${app}-${previous}` });
      previous = color;
    }
    return { iterations, samples: samples.map((x) => round(x)), ms: percentiles(samples) };
  } finally {
    for (const a of aborts) a.abort();
    controller.kill('SIGTERM');
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}
