// Installs chart/rainbow-system with real helm the way the demo does on the local cluster: the
// webhook runs outside the cluster as a local process (webhook.url + caBundle), the controller
// runs inside it as a pod of the rainbow image under its own ServiceAccount and RBAC. Both are
// scoped to one app namespace so tests never act on each other's objects.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubeconfigPath, repoRoot } from '../../../scripts/cluster/paths.js';
import { eventually, helm } from './cluster.js';
import { freePort, startRainbow, type LocalProcess } from './processes.js';

export interface RainbowSystem {
  release: string;
  namespace: string;
  webhook: LocalProcess;
  uninstall(): Promise<void>;
}

export async function installRainbowSystem(appNamespace: string): Promise<RainbowSystem> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-system-'));
  const caFile = path.join(dir, 'ca.crt');
  const webhook = startRainbow('webhook', ['webhook', '--self-signed', '--bind=127.0.0.1', `--port=${port}`, `--ca-bundle-out=${caFile}`, `--kubeconfig=${kubeconfigPath}`, '--pod-timeout=1s']);
  await eventually('webhook CA bundle written', async () => existsSync(caFile) && readFileSync(caFile, 'utf8').includes('END CERTIFICATE'), 30_000, 100);
  const release = `rainbow-${appNamespace}`.slice(0, 53);
  const namespace = `${appNamespace}-system`;
  const values = {
    webhook: {
      url: `https://127.0.0.1:${port}`,
      caBundle: readFileSync(caFile).toString('base64'),
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': appNamespace } },
    },
    controller: { extraArgs: [`--namespace=${appNamespace}`, '--interval=1s'] },
  };
  const res = await helm([
    'upgrade', '--install', release, path.join(repoRoot, 'chart', 'rainbow-system'),
    '-n', namespace, '--create-namespace', '--wait', '--timeout', '90s',
    '--set-json', `webhook=${JSON.stringify(values.webhook)}`,
    '--set-json', `controller.extraArgs=${JSON.stringify(values.controller.extraArgs)}`,
  ]);
  if (res.code !== 0) {
    await webhook.stop();
    throw new Error(`helm install of rainbow-system failed: ${res.stderr || res.stdout}`);
  }
  return {
    release,
    namespace,
    webhook,
    async uninstall() {
      await helm(['uninstall', release, '-n', namespace, '--wait']);
      await webhook.stop();
    },
  };
}
