// Installs chart/rainbow-system with real helm the way the demo does on the local cluster: the
// webhook runs outside the cluster as a local process (webhook.url + caBundle), the controller
// runs inside it as a pod of the rainbow image under its own ServiceAccount and RBAC. Both are
// scoped to one app namespace so tests never act on each other's objects.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpsGet } from '../../../scripts/cluster/https-get.js';
import { kubeconfigPath, repoRoot } from '../../../scripts/cluster/paths.js';
import { clients, eventually, helm, type CommandResult } from './cluster.js';
import { freePort, startRainbow, type LocalProcess } from './processes.js';

export interface RainbowSystem {
  release: string;
  namespace: string;
  /** The webhook process running now (replaced by `restartWebhook`). */
  webhook: LocalProcess;
  /** Where the API server calls the webhook (`webhook.url`). */
  webhookUrl: string;
  /**
   * Starts the webhook again on the same port with the same certificate (kept in a cert dir), so
   * the registration stays valid; resolves once it answers /readyz. The old process must be gone.
   */
  restartWebhook(): Promise<LocalProcess>;
  /** Runs the install's `helm upgrade --install` again with the same values. */
  upgrade(): Promise<CommandResult>;
  uninstall(): Promise<void>;
}

/** Resolves once the webhook answers GET /readyz with 200 over TLS checked against `ca`. */
async function webhookReady(url: string, ca: string, proc: LocalProcess): Promise<void> {
  await eventually('webhook /readyz', async () => {
    if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) throw new Error(`webhook exited; see ${proc.log}:\n${proc.output()}`);
    return (await httpsGet(`${url}/readyz`, { ca }, 2_000)).status === 200;
  }, 30_000, 100);
}

export async function installRainbowSystem(appNamespace: string): Promise<RainbowSystem> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-system-'));
  const caFile = path.join(dir, 'ca.crt');
  // --cert-dir keeps the self-signed CA and certificate, so a restarted webhook serves the same ones.
  const args = ['webhook', '--self-signed', `--cert-dir=${path.join(dir, 'tls')}`, '--bind=127.0.0.1', `--port=${port}`, `--ca-bundle-out=${caFile}`, `--kubeconfig=${kubeconfigPath}`, '--pod-timeout=1s'];
  let webhook = startRainbow('webhook', args);
  await eventually('webhook CA bundle written', async () => existsSync(caFile) && readFileSync(caFile, 'utf8').includes('END CERTIFICATE'), 30_000, 100);
  const ca = readFileSync(caFile, 'utf8');
  const webhookUrl = `https://127.0.0.1:${port}`;
  const release = `rainbow-${appNamespace}`.slice(0, 53);
  const namespace = `${appNamespace}-system`;
  const values = {
    webhook: {
      url: webhookUrl,
      caBundle: Buffer.from(ca).toString('base64'),
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': appNamespace } },
    },
    controller: { extraArgs: [`--namespace=${appNamespace}`, '--interval=1s'] },
  };
  const upgrade = () => helm([
    'upgrade', '--install', release, path.join(repoRoot, 'chart', 'rainbow-system'),
    '-n', namespace, '--create-namespace', '--wait', '--timeout', '90s',
    '--set-json', `webhook=${JSON.stringify(values.webhook)}`,
    '--set-json', `controller.extraArgs=${JSON.stringify(values.controller.extraArgs)}`,
  ]);
  const res = await upgrade();
  if (res.code !== 0) {
    await webhook.stop();
    throw new Error(`helm install of rainbow-system failed: ${res.stderr || res.stdout}`);
  }
  return {
    release,
    namespace,
    get webhook() {
      return webhook;
    },
    webhookUrl,
    async restartWebhook() {
      if (webhook.proc.exitCode === null && webhook.proc.signalCode === null) throw new Error(`webhook (pid ${webhook.pid}) is still running`);
      webhook = startRainbow('webhook', args);
      await webhookReady(webhookUrl, ca, webhook);
      if (readFileSync(caFile, 'utf8') !== ca) throw new Error('the restarted webhook serves a different CA than the registered caBundle');
      return webhook;
    },
    upgrade,
    /** helm uninstall, stop the webhook by PID, and delete the namespace helm created. */
    async uninstall() {
      await helm(['uninstall', release, '-n', namespace, '--wait']);
      await webhook.stop();
      await clients().core.deleteNamespace({ name: namespace }).catch(() => undefined);
    },
  };
}
