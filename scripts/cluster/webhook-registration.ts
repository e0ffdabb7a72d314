// The chart's own webhook configurations (chart/rainbow-system/templates/webhook-configurations.yaml,
// rendered with `helm template` and webhook.url) for a webhook reached by URL and scoped to one
// namespace: how the e2e tests and the benchmarks put a `rainbow webhook` process in the API
// server's path with exactly the rules, selectors and matchConditions a user's install has; and
// when an in-cluster install's webhook has injected its CA into the chart's configurations.
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { AdmissionregistrationV1Api, V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { repoRoot } from './paths.js';
import { runTool } from './run-tool.js';

export interface WebhookRegistration {
  /** The release name: it must contain "rainbow"; the configurations' name is the chart's fullname (its first 40 characters). */
  name: string;
  /** Base URL of the webhook, e.g. https://127.0.0.1:8443. */
  url: string;
  /** Base64 PEM of the CA that signed its serving certificate. */
  caBundle: string;
  /** The only namespace whose objects it is called for. */
  namespace: string;
}

export interface WebhookConfigurations {
  /** Name of both configurations, as the chart made it. */
  name: string;
  /** Services CREATE/UPDATE → /mutate/services, failurePolicy Ignore. */
  mutating: V1MutatingWebhookConfiguration;
  /** Deployments, ReplicaSets and deployments/scale → /validate/deployments, failurePolicy Fail. */
  validating: V1ValidatingWebhookConfiguration;
}

export async function renderWebhookConfigurations(r: WebhookRegistration): Promise<WebhookConfigurations> {
  if (!r.name.includes('rainbow')) throw new Error(`webhook registration ${r.name}: the name must contain "rainbow" (it is the chart's fullname then)`);
  const res = await runTool('helm', [
    'template', r.name, path.join(repoRoot, 'chart', 'rainbow-system'),
    '--show-only', 'templates/webhook-configurations.yaml',
    '--set', `webhook.url=${r.url}`,
    '--set', `webhook.caBundle=${r.caBundle}`,
    '--set-json', `webhook.namespaceSelector=${JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': r.namespace } })}`,
  ]);
  if (res.code !== 0) throw new Error(`helm template of the webhook configurations failed: ${res.stderr || res.stdout}`);
  const docs = parseAllDocuments(res.stdout).map((d) => d.toJS() as { kind?: string }).filter((d) => d?.kind);
  const mutating = docs.find((d) => d.kind === 'MutatingWebhookConfiguration') as V1MutatingWebhookConfiguration | undefined;
  const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration') as V1ValidatingWebhookConfiguration | undefined;
  if (!mutating || !validating) throw new Error(`helm template rendered ${docs.map((d) => d.kind).join(', ') || 'nothing'}, not both webhook configurations`);
  return { name: mutating.metadata!.name!, mutating, validating };
}

/** True once an in-cluster webhook has injected its CA into every entry of both configurations named `name`. */
export async function caInjected(admission: AdmissionregistrationV1Api, name: string): Promise<boolean> {
  const m = await admission.readMutatingWebhookConfiguration({ name });
  const v = await admission.readValidatingWebhookConfiguration({ name });
  return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].every((w) => (w.clientConfig.caBundle ?? '').length > 0);
}
