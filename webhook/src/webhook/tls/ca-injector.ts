// caBundle injection: the CA of the webhook's certificate into every entry of the named
// MutatingWebhookConfiguration / ValidatingWebhookConfiguration, so that the API server trusts
// the certificate the webhook bootstrapped (see secret-store.ts).
//
// Read, then one JSON patch per configuration that changes only the entries that differ, with a
// `test` on metadata.resourceVersion so that a concurrent writer (Helm, another replica) is never
// overwritten with a stale list: on conflict, read again. Nothing to change → no write at all.
// The chart renders no caBundle in this mode, so Helm (client-side three-way merge or
// server-side apply) never owns the field and leaves the injected value alone on upgrades.

import { AdmissionregistrationV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';

import { apiClient, statusOf } from '../../kube/client.js';
import type { Logger } from '../../runtime/log.js';
import { FIELD_MANAGER, describeApiError } from './secret-store.js';

export type WebhookConfigKind = 'mutating' | 'validating';

export interface InjectTargets {
  mutating: readonly string[];
  validating: readonly string[];
}

/** The parts of a webhook configuration injection looks at. */
export interface WebhookConfigView {
  uid?: string;
  resourceVersion?: string;
  /** Entries in order: name and current clientConfig.caBundle (base64). */
  webhooks: Array<{ name: string; caBundle?: string }>;
}

export type JsonPatchOp = { op: 'test' | 'add' | 'replace'; path: string; value: unknown };

export interface WebhookConfigIO {
  /** Errors carry the HTTP status in `code` (404: no such configuration). */
  read(kind: WebhookConfigKind, name: string): Promise<WebhookConfigView>;
  /** JSON patch (RFC 6902); 409/422 when a `test` fails. */
  patch(kind: WebhookConfigKind, name: string, ops: JsonPatchOp[]): Promise<void>;
}

export const KIND_NAMES: Record<WebhookConfigKind, string> = {
  mutating: 'MutatingWebhookConfiguration',
  validating: 'ValidatingWebhookConfiguration',
};

export function kubeWebhookConfigIO(kc: KubeConfig): WebhookConfigIO {
  const api = apiClient(kc, AdmissionregistrationV1Api);
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  const view = (o: { metadata?: { uid?: string; resourceVersion?: string }; webhooks?: Array<{ name: string; clientConfig: { caBundle?: string } }> }): WebhookConfigView => ({
    uid: o.metadata?.uid,
    resourceVersion: o.metadata?.resourceVersion,
    webhooks: (o.webhooks ?? []).map((w) => ({ name: w.name, caBundle: w.clientConfig?.caBundle })),
  });
  return {
    async read(kind, name) {
      return view(kind === 'mutating' ? await api.readMutatingWebhookConfiguration({ name }) : await api.readValidatingWebhookConfiguration({ name }));
    },
    async patch(kind, name, body) {
      if (kind === 'mutating') await api.patchMutatingWebhookConfiguration({ name, body, fieldManager: FIELD_MANAGER }, jsonPatch);
      else await api.patchValidatingWebhookConfiguration({ name, body, fieldManager: FIELD_MANAGER }, jsonPatch);
    },
  };
}

/** Parse `--inject-ca mutating/NAME,validating/NAME` (repeatable) into targets; throws on a bad item. */
export function parseInjectTargets(values: readonly string[]): InjectTargets {
  const targets = { mutating: [] as string[], validating: [] as string[] };
  for (const item of values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const m = /^(mutating|validating)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(item);
    if (!m) throw new Error(`--inject-ca: "${item}" is not mutating/NAME or validating/NAME`);
    const list = targets[m[1] as WebhookConfigKind];
    if (!list.includes(m[2]!)) list.push(m[2]!);
  }
  return targets;
}

/** The JSON patch that sets `caBundle` on every entry that differs; empty when all agree. Pure. */
export function caBundlePatch(config: WebhookConfigView, caBundle: string): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  config.webhooks.forEach((w, i) => {
    if (w.caBundle === caBundle) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
    ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle });
  });
  if (ops.length === 0) return ops;
  return [{ op: 'test', path: '/metadata/resourceVersion', value: config.resourceVersion }, ...ops];
}

export interface InjectResult {
  /** "ValidatingWebhookConfiguration/x: a.example, b.example" per configuration changed. */
  changed: string[];
}

/**
 * Set clientConfig.caBundle = base64(caBundlePem) on every entry of the named configurations.
 * Idempotent: configurations already right are not written. Retries on conflicts.
 */
export async function injectCaBundle(
  io: WebhookConfigIO,
  targets: InjectTargets,
  caBundlePem: string,
  opts: { log?: Logger; attempts?: number } = {},
): Promise<InjectResult> {
  const caBundle = Buffer.from(caBundlePem, 'utf8').toString('base64');
  const attempts = opts.attempts ?? 5;
  const changed: string[] = [];
  const all: Array<[WebhookConfigKind, string]> = [
    ...targets.mutating.map((n) => ['mutating', n] as [WebhookConfigKind, string]),
    ...targets.validating.map((n) => ['validating', n] as [WebhookConfigKind, string]),
  ];
  for (const [kind, name] of all) {
    const what = `${KIND_NAMES[kind]} ${name}`;
    for (let attempt = 1; ; attempt++) {
      let config: WebhookConfigView;
      try {
        config = await io.read(kind, name);
      } catch (err) {
        const hint =
          statusOf(err) === 404
            ? '; is the chart installed? (--inject-ca names it)'
            : statusOf(err) === 403
              ? `; the webhook's ClusterRole needs get on ${KIND_NAMES[kind].toLowerCase()}s (resourceNames [${name}])`
              : '';
        throw new Error(`cannot read ${what} to inject the caBundle: ${describeApiError(err)}${hint}`, { cause: err });
      }
      const ops = caBundlePatch(config, caBundle);
      if (ops.length === 0) break;
      try {
        await io.patch(kind, name, ops);
        const entries = ops.filter((o) => o.op === 'test' && o.path.endsWith('/name')).map((o) => String(o.value));
        changed.push(`${KIND_NAMES[kind]}/${name}: ${entries.join(', ')}`);
        opts.log?.info({ configuration: `${KIND_NAMES[kind]}/${name}`, webhooks: entries }, 'injected the caBundle');
        break;
      } catch (err) {
        const code = statusOf(err);
        if ((code === 409 || code === 422) && attempt < attempts) continue; // changed since read: read again
        const hint =
          code === 403 ? `; the webhook's ClusterRole needs patch on ${KIND_NAMES[kind].toLowerCase()}s (resourceNames [${name}])` : code === 409 || code === 422 ? `; it kept changing (${attempts} attempts)` : '';
        throw new Error(`cannot patch the caBundle of ${what}: ${describeApiError(err)}${hint}`, { cause: err });
      }
    }
  }
  return { changed };
}
