// rainbow itself: both webhook configurations with their CA, a webhook the API server can reach,
// a controller holding its Lease, and a webhook of this CLI's version (pure).
import type { V1MutatingWebhook, V1ValidatingWebhook } from '@kubernetes/client-node';
import { toDate } from '../../domain/objects.js';
import { CONTROLLER_LEASE_NAME } from '../../domain/contract.js';
import { span, type DoctorInput, type RainbowInput } from './input.js';
import { fail, ok, unreadable, warn, type CheckResult } from './result.js';

export const LEASE = CONTROLLER_LEASE_NAME;
const DEFAULT_LEASE_SECONDS = 15;

type Entry = V1MutatingWebhook | V1ValidatingWebhook;

type Configurations = Pick<RainbowInput, 'mutating' | 'validating'>;

export function webhookEntries(r: Configurations): Entry[] {
  return [...(r.mutating.status === 'found' ? (r.mutating.value.webhooks ?? []) : []), ...(r.validating.status === 'found' ? (r.validating.value.webhooks ?? []) : [])];
}

/** The Service the webhook entries call, or their URL; the first entry that says decides. */
export function webhookTarget(r: Configurations): { service?: { namespace: string; name: string }; url?: string } | undefined {
  for (const e of webhookEntries(r)) {
    const s = e.clientConfig?.service;
    if (s?.name && s.namespace) return { service: { namespace: s.namespace, name: s.name } };
    if (e.clientConfig?.url) return { url: e.clientConfig.url };
  }
  return undefined;
}

/** `registry:5000/rainbow:0.1.0@sha256:…` → tag 0.1.0, digest sha256:…. */
export function imageReference(image: string): { tag?: string; digest?: string } {
  const [name, digest] = image.split('@') as [string, string | undefined];
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
  return { ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

function configurationsCheck(input: DoctorInput): CheckResult {
  const { fullname, mutating, validating } = input.rainbow;
  const bad = unreadable('rainbow', 'configurations', mutating.status === 'forbidden' || mutating.status === 'failed' ? mutating : validating, 'whether rainbow is installed is not known');
  if (bad) return bad;
  const missing = [
    mutating.status === 'absent' ? `MutatingWebhookConfiguration ${fullname} (Services are not held on an Available color)` : '',
    validating.status === 'absent' ? `ValidatingWebhookConfiguration ${fullname} (nothing refuses to remove colors that hold connections)` : '',
  ].filter(Boolean);
  if (missing.length > 0) {
    return fail(
      'rainbow',
      'configurations',
      `no ${missing.join(' and no ')}`,
      `install chart/rainbow-system (helm upgrade --install rainbow chart/rainbow-system -n rainbow-system --create-namespace), or pass --release if it was installed under another name`,
    );
  }
  const n = (r: typeof mutating | typeof validating) => (r.status === 'found' ? (r.value.webhooks ?? []).length : 0);
  return ok('rainbow', 'configurations', `MutatingWebhookConfiguration ${fullname} (${n(mutating)} entr${n(mutating) === 1 ? 'y' : 'ies'}) and ValidatingWebhookConfiguration ${fullname} (${n(validating)} entr${n(validating) === 1 ? 'y' : 'ies'}) are installed`);
}

function caBundleCheck(input: DoctorInput): CheckResult | undefined {
  const all = webhookEntries(input.rainbow);
  if (all.length === 0) return undefined;
  const without = all.filter((e) => !e.clientConfig?.caBundle).map((e) => e.name);
  if (without.length === 0) return ok('rainbow', 'caBundle', `a CA is in every entry (${all.length})`);
  return fail(
    'rainbow',
    'caBundle',
    `no caBundle in ${without.join(', ')}: the API server cannot verify the webhook there, so those entries fail (validating: guarded deletes refused; mutating: cutover skipped)`,
    `the webhook injects its CA when it starts (--inject-ca): check its pods (kubectl -n ${input.rainbow.namespace} logs deploy/${input.rainbow.fullname}-webhook); with tls.existingSecret give tls.caBundle or cert-manager's inject-ca-from`,
  );
}

function endpointsCheck(input: DoctorInput): CheckResult | undefined {
  const target = webhookTarget(input.rainbow);
  if (!target) return undefined;
  if (target.url) return ok('rainbow', 'endpoints', `the API server calls the webhook at ${target.url} (webhook.url): not a Service, not checked from here`);
  const { namespace, name } = target.service!;
  const read = input.rainbow.endpointSlices;
  if (!read) return undefined;
  const bad = unreadable('rainbow', 'endpoints', read, `whether the webhook Service ${namespace}/${name} has ready pods is not known`);
  if (bad) return bad;
  const slices = read.status === 'found' ? read.value : [];
  const ready = new Set(slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)));
  if (ready.size > 0) return ok('rainbow', 'endpoints', `Service ${namespace}/${name} has ${ready.size} ready endpoint${ready.size === 1 ? '' : 's'}`);
  return fail(
    'rainbow',
    'endpoints',
    `Service ${namespace}/${name} has no ready endpoint: the API server cannot call the webhook, so guarded deletes are refused and the cutover is skipped`,
    `bring the webhook pods up: kubectl -n ${namespace} get pods -l app.kubernetes.io/component=webhook`,
  );
}

function leaseCheck(input: DoctorInput): CheckResult {
  const { namespace, fullname, lease } = input.rainbow;
  const where = `Lease ${namespace}/${LEASE}`;
  const fix = `check the controller: kubectl -n ${namespace} get deploy ${fullname}-controller, and its logs`;
  const bad = unreadable('rainbow', 'lease', lease, 'whether a controller leads is not known');
  if (bad) return bad;
  if (lease.status !== 'found') return fail('rainbow', 'lease', `no ${where}: no controller has led here, so nothing promotes pending colors or deletes drained ones`, fix);
  const holder = lease.value.spec?.holderIdentity;
  if (!holder) return fail('rainbow', 'lease', `${where} is held by nobody: the last controller released it and none took over`, fix);
  const duration = lease.value.spec?.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  const renewed = toDate(lease.value.spec?.renewTime as Date | string | undefined);
  if (!renewed) return fail('rainbow', 'lease', `${where} (holder ${holder}) has no renewTime`, fix);
  const age = Math.max(0, (input.now.getTime() - renewed.getTime()) / 1000);
  // Twice the lease duration: a leader renews well inside one, and clocks may differ a little.
  if (age > 2 * duration) {
    return fail('rainbow', 'lease', `${where} was last renewed ${span(age)} ago by ${holder} (lease ${duration}s): its controller is not running`, fix);
  }
  return ok('rainbow', 'lease', `${where} held by ${holder}, renewed ${span(age)} ago`);
}

function versionCheck(input: DoctorInput): CheckResult | undefined {
  const { namespace, fullname, webhookDeployment } = input.rainbow;
  const name = `${namespace}/${fullname}-webhook`;
  if (webhookDeployment.status === 'absent') {
    if (webhookTarget(input.rainbow)?.url) return ok('rainbow', 'version', `the webhook runs outside the cluster (webhook.url): its version is not known here; this CLI is ${input.cliVersion}`);
    return warn('rainbow', 'version', `no Deployment ${name}: the webhook's version is not known; this CLI is ${input.cliVersion}`, 'pass --release and --system-namespace of your rainbow-system install');
  }
  const bad = unreadable('rainbow', 'version', webhookDeployment, "the webhook's version is not known");
  if (bad) return bad;
  if (webhookDeployment.status !== 'found') return undefined;
  const containers = webhookDeployment.value.spec?.template?.spec?.containers ?? [];
  const image = (containers.find((c) => c.name === 'webhook') ?? containers[0])?.image ?? '';
  const { tag, digest } = imageReference(image);
  const bare = (v: string) => v.replace(/^v/, '');
  if (tag && bare(tag) === bare(input.cliVersion)) return ok('rainbow', 'version', `the webhook runs ${image}, this CLI's version (${input.cliVersion})`);
  if (!tag && digest) return ok('rainbow', 'version', `the webhook runs ${image}, pinned by digest: doctor cannot compare it with this CLI's ${input.cliVersion}`);
  return warn(
    'rainbow',
    'version',
    `the webhook runs ${image || '(no image)'}${tag ? '' : ' (no tag: latest)'}, this CLI is ${input.cliVersion}: what doctor checks assumes one release`,
    `use the CLI of the webhook's release, or upgrade rainbow-system to it (helm upgrade … --set image.tag=${input.cliVersion})`,
  );
}

export function checkRainbow(input: DoctorInput): CheckResult[] {
  return [configurationsCheck(input), caBundleCheck(input), endpointsCheck(input), leaseCheck(input), versionCheck(input)].filter((r): r is CheckResult => r !== undefined);
}
