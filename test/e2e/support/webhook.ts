// Runs `rainbow webhook` as a process inside the cluster namespace, next to the API server (as a
// webhook run outside the cluster's pods would be), and registers it through clientConfig.url and
// a caBundle, scoped to one test namespace.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sumMetric } from '../../../scripts/cluster/metrics-text.js';
import { clusterHttpsGet } from '../../../scripts/cluster/network/portal.js';
import { insideKubeconfigPath } from '../../../scripts/cluster/paths.js';
import { renderWebhookConfigurations } from '../../../scripts/cluster/webhook-registration.js';
import { clients, eventually } from './cluster.js';
import { freePort, startRainbow, type LocalProcess } from './processes.js';

export interface RegisteredWebhook {
  process: LocalProcess;
  url: string;
  /** Sum of a metric's samples on its /metrics whose labels contain `labels` (e.g. 'webhook="mutate-services"'). */
  metric(name: string, labels?: string): Promise<number>;
  unregister(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWebhook(namespace: string, extraArgs: string[] = []): Promise<RegisteredWebhook> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-webhook-'));
  const caFile = path.join(dir, 'ca.crt');
  const proc = startRainbow('webhook', [
    'webhook',
    '--self-signed',
    '--bind=127.0.0.1',
    `--port=${port}`,
    `--ca-bundle-out=${caFile}`,
    `--kubeconfig=${insideKubeconfigPath}`,
    '--pod-timeout=1s',
    ...extraArgs,
  ]);
  const url = `https://127.0.0.1:${port}`;
  await eventually('webhook CA bundle written', async () => existsSync(caFile) && readFileSync(caFile, 'utf8').includes('END CERTIFICATE'), 30_000, 100);
  const caBundle = readFileSync(caFile).toString('base64');
  const { admission } = clients();
  const registration = { name: `rainbow-e2e-${namespace}`, url, caBundle, namespace };
  const { name, mutating, validating } = await renderWebhookConfigurations(registration);
  await admission.createMutatingWebhookConfiguration({ body: mutating });
  await admission.createValidatingWebhookConfiguration({ body: validating });
  const unregister = async () => {
    await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
    await admission.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
  };
  return {
    process: proc,
    url,
    async metric(name, labels) {
      const res = await clusterHttpsGet(`${url}/metrics`, readFileSync(caFile));
      if (res.status !== 200) throw new Error(`webhook /metrics answered ${res.status}`);
      return sumMetric(res.body, name, labels);
    },
    unregister,
    async stop() {
      await unregister();
      await proc.stop();
    },
  };
}
