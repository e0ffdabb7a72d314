// The chart's webhook configurations (chart/rainbow-system/templates/webhook-configurations.yaml)
// for a webhook reached by URL and scoped to one namespace: how the e2e tests and the benchmarks
// put a `rainbow webhook` process in the API server's path; and when an in-cluster install's
// webhook has injected its CA into the chart's own.
import type { AdmissionregistrationV1Api, V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';

export interface WebhookRegistration {
  /** Name of both configurations. */
  name: string;
  /** Base URL of the webhook, e.g. https://127.0.0.1:8443. */
  url: string;
  /** Base64 PEM of the CA that signed its serving certificate. */
  caBundle: string;
  /** The only namespace whose objects it is called for. */
  namespace: string;
}

const objectSelector = { matchExpressions: [{ key: 'rainbow.dev/app', operator: 'Exists' }] };
const scopedTo = (namespace: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } });

/** Services CREATE/UPDATE → /mutate/services, failurePolicy Ignore. */
export function serviceWebhookConfiguration(r: WebhookRegistration): V1MutatingWebhookConfiguration {
  return {
    metadata: { name: r.name },
    webhooks: [
      {
        name: 'services.rainbow.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        timeoutSeconds: 10,
        namespaceSelector: scopedTo(r.namespace),
        objectSelector,
        clientConfig: { url: `${r.url}/mutate/services`, caBundle: r.caBundle },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'], scope: 'Namespaced' }],
      },
    ],
  };
}

/** Deployments and ReplicaSets DELETE/UPDATE, and deployments/scale → /validate/deployments, failurePolicy Fail. */
export function guardWebhookConfiguration(r: WebhookRegistration): V1ValidatingWebhookConfiguration {
  const guard = (webhookName: string, resources: string[], withObjectSelector: boolean) => ({
    name: webhookName,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    timeoutSeconds: 10,
    namespaceSelector: scopedTo(r.namespace),
    ...(withObjectSelector ? { objectSelector } : {}),
    clientConfig: { url: `${r.url}/validate/deployments`, caBundle: r.caBundle },
    rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['DELETE', 'UPDATE'], resources, scope: 'Namespaced' as const }],
  });
  return {
    metadata: { name: r.name },
    webhooks: [
      guard('workloads.rainbow.dev', ['deployments', 'replicasets'], true),
      // A Scale object carries no labels, so an objectSelector would never match it.
      guard('scale.rainbow.dev', ['deployments/scale'], false),
    ],
  };
}

/** True once an in-cluster webhook has injected its CA into every entry of both configurations named `name`. */
export async function caInjected(admission: AdmissionregistrationV1Api, name: string): Promise<boolean> {
  const m = await admission.readMutatingWebhookConfiguration({ name });
  const v = await admission.readValidatingWebhookConfiguration({ name });
  return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].every((w) => (w.clientConfig.caBundle ?? '').length > 0);
}
