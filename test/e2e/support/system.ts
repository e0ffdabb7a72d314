// Installs chart/rainbow-system with real helm on the local cluster, scoped to one app namespace so
// tests never act on each other's objects. By default as a user would: webhook pods behind the
// chart's Service, TLS bootstrapped by the webhook and its CA injected, the API server calling
// them through the Service; the controller a pod under its own ServiceAccount and RBAC. With
// `webhook: 'url'`, the webhook runs as a process next to the API server (webhook.url + caBundle),
// so a test can kill and restart it.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { insideKubeconfigPath, repoRoot } from '../../../scripts/cluster/paths.js';
import { caInjected } from '../../../scripts/cluster/webhook-registration.js';
import { clients, eventually, helm, type CommandResult } from './cluster.js';
import { httpsGetInside } from './network.js';
import { freePort, startRainbow, type LocalProcess } from './processes.js';

interface Installed {
  release: string;
  namespace: string;
  /** Runs the install's `helm upgrade --install` again with the same values. */
  upgrade(): Promise<CommandResult>;
  uninstall(): Promise<void>;
}

export interface InClusterSystem extends Installed {
  /** The webhook's pods, Ready or not. */
  webhookPods(): Promise<V1Pod[]>;
}

export interface UrlSystem extends Installed {
  /** The webhook process running now (replaced by `restartWebhook`). */
  webhook: LocalProcess;
  /** Where the API server calls the webhook (`webhook.url`). */
  webhookUrl: string;
  /**
   * Starts the webhook again on the same port with the same certificate (kept in a cert dir), so
   * the registration stays valid; resolves once it answers /readyz. The old process must be gone.
   */
  restartWebhook(): Promise<LocalProcess>;
}

const releaseFor = (appNamespace: string) => `rainbow-${appNamespace}`.slice(0, 53);
const scopedValues = (appNamespace: string) => [
  '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': appNamespace } })}`,
  '--set-json', `controller.extraArgs=${JSON.stringify([`--namespace=${appNamespace}`, '--interval=1s'])}`,
];

function helmInstall(release: string, namespace: string, values: string[]): () => Promise<CommandResult> {
  return () => helm([
    'upgrade', '--install', release, path.join(repoRoot, 'chart', 'rainbow-system'),
    '-n', namespace, '--create-namespace', '--wait', '--timeout', '120s', ...values,
  ]);
}

async function uninstallWith(release: string, namespace: string, after?: () => Promise<unknown>): Promise<void> {
  await helm(['uninstall', release, '-n', namespace, '--wait']);
  await after?.();
  await clients().core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

/** The chart's default install: the webhook in the cluster, behind its Service. */
export async function installRainbowSystem(appNamespace: string): Promise<InClusterSystem> {
  const release = releaseFor(appNamespace);
  const namespace = `${appNamespace}-system`;
  const upgrade = helmInstall(release, namespace, [...scopedValues(appNamespace), '--set', 'webhook.podTimeout=1s']);
  const res = await upgrade();
  if (res.code !== 0) throw new Error(`helm install of rainbow-system failed: ${res.stderr || res.stdout}`);
  const { core, admission } = clients();
  // --wait covers the Deployments; the CA is injected by the webhook right after it made the Secret.
  await eventually('the webhook CA injected into both configurations', () => caInjected(admission, release), 60_000, 200);
  return {
    release,
    namespace,
    upgrade,
    webhookPods: async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=webhook' })).items,
    uninstall: () => uninstallWith(release, namespace),
  };
}

/** Resolves once the webhook answers GET /readyz with 200 over TLS checked against `ca`. */
async function webhookReady(url: string, ca: string, proc: LocalProcess): Promise<void> {
  await eventually('webhook /readyz', async () => {
    if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) throw new Error(`webhook exited; see ${proc.log}:\n${proc.output()}`);
    return (await httpsGetInside(`${url}/readyz`, ca, 2_000).catch(() => ({ status: 0 }))).status === 200;
  }, 30_000, 100);
}

/** webhook.url: the webhook a process next to the API server, in the cluster's namespace. */
export async function installRainbowSystemWithUrl(appNamespace: string): Promise<UrlSystem> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-system-'));
  const caFile = path.join(dir, 'ca.crt');
  // --cert-dir keeps the self-signed CA and certificate, so a restarted webhook serves the same ones.
  const args = ['webhook', '--self-signed', `--cert-dir=${path.join(dir, 'tls')}`, '--bind=127.0.0.1', `--port=${port}`, `--ca-bundle-out=${caFile}`, `--kubeconfig=${insideKubeconfigPath}`, '--pod-timeout=1s'];
  let webhook = startRainbow('webhook', args);
  await eventually('webhook CA bundle written', async () => existsSync(caFile) && readFileSync(caFile, 'utf8').includes('END CERTIFICATE'), 30_000, 100);
  const ca = readFileSync(caFile, 'utf8');
  const webhookUrl = `https://127.0.0.1:${port}`;
  const release = releaseFor(appNamespace);
  const namespace = `${appNamespace}-system`;
  const upgrade = helmInstall(release, namespace, [
    '--set', `webhook.url=${webhookUrl}`,
    '--set', `webhook.caBundle=${Buffer.from(ca).toString('base64')}`,
    ...scopedValues(appNamespace),
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
    uninstall: () => uninstallWith(release, namespace, () => webhook.stop()),
  };
}
