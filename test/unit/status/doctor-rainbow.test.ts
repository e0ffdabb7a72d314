// rainbow doctor's checks of rainbow itself: webhook configurations, caBundle, webhook endpoints, the controller's Lease, the version.
import type { V1Deployment } from '@kubernetes/client-node';
import { checkRainbow, imageReference } from '../../../webhook/src/status/doctor/rainbow-system.js';
import type { RainbowInput } from '../../../webhook/src/status/doctor/input.js';
import { absent, forbidden, found, input, NOW, rainbow, withEntry } from './doctor-fixture.js';

const run = (over: Partial<RainbowInput>) => checkRainbow(input({ rainbow: rainbow(over) }));
const byCheck = (over: Partial<RainbowInput>, check: string) => run(over).find((r) => r.check === check);
const CONTROLLER_FIX = 'check the controller: kubectl -n rainbow-system get deploy rainbow-controller, and its logs';
const webhookImage = (image: string): RainbowInput['webhookDeployment'] =>
  found<V1Deployment>({ spec: { selector: {}, template: { spec: { containers: [{ name: 'webhook', image }] } } } });

describe('rainbow itself', () => {
  it('is ok when installed, injected, reachable, led and of this version', () => {
    expect(checkRainbow(input())).toEqual([
      { area: 'rainbow', check: 'configurations', status: 'ok', finding: 'MutatingWebhookConfiguration rainbow (1 entry) and ValidatingWebhookConfiguration rainbow (4 entries) are installed' },
      { area: 'rainbow', check: 'caBundle', status: 'ok', finding: 'a CA is in every entry (5)' },
      { area: 'rainbow', check: 'endpoints', status: 'ok', finding: 'Service rainbow-system/rainbow-webhook has 2 ready endpoints' },
      { area: 'rainbow', check: 'lease', status: 'ok', finding: 'Lease rainbow-system/rainbow-controller held by rainbow-controller-7d9f-x2k4p, renewed 3s ago' },
      { area: 'rainbow', check: 'version', status: 'ok', finding: "the webhook runs rainbow:0.1.0, this CLI's version (0.1.0)" },
    ]);
  });

  it('fails when rainbow-system is not installed', () => {
    expect(
      run({
        mutating: absent({ verb: 'get', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io', name: 'rainbow' }),
        validating: absent({ verb: 'get', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io', name: 'rainbow' }),
        lease: absent({ verb: 'get', resource: 'leases.coordination.k8s.io', namespace: 'rainbow-system', name: 'rainbow-controller' }),
        webhookDeployment: absent({ verb: 'get', resource: 'deployments.apps', namespace: 'rainbow-system', name: 'rainbow-webhook' }),
      }),
    ).toEqual([
      {
        area: 'rainbow',
        check: 'configurations',
        status: 'fail',
        finding:
          'no MutatingWebhookConfiguration rainbow (Services are not held on an Available color) and no ValidatingWebhookConfiguration rainbow (nothing refuses to remove colors that hold connections)',
        fix: 'install chart/rainbow-system (helm upgrade --install rainbow chart/rainbow-system -n rainbow-system --create-namespace), or pass --release if it was installed under another name',
      },
      {
        area: 'rainbow',
        check: 'lease',
        status: 'fail',
        finding: 'no Lease rainbow-system/rainbow-controller: no controller has led here, so nothing promotes pending colors or deletes drained ones',
        fix: CONTROLLER_FIX,
      },
      {
        area: 'rainbow',
        check: 'version',
        status: 'warn',
        finding: "no Deployment rainbow-system/rainbow-webhook: the webhook's version is not known; this CLI is 0.1.0",
        fix: 'pass --release and --system-namespace of your rainbow-system install',
      },
    ]);
  });

  it('warns when it may not read a configuration', () => {
    expect(byCheck({ mutating: forbidden({ verb: 'get', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io', name: 'rainbow' }) }, 'configurations')).toEqual({
      area: 'rainbow',
      check: 'configurations',
      status: 'warn',
      finding: 'cannot get mutatingwebhookconfigurations.admissionregistration.k8s.io rainbow: forbidden (forbidden by RBAC); whether rainbow is installed is not known',
      fix: 'grant get on mutatingwebhookconfigurations.admissionregistration.k8s.io to whoever runs doctor, or run it with credentials that have it',
    });
  });

  it('fails when an entry has no caBundle', () => {
    expect(byCheck({ validating: found({ webhooks: [withEntry('workloads.rainbow.dev', ''), withEntry('pods.rainbow.dev', ''), withEntry('scale.rainbow.dev')] }) }, 'caBundle')).toEqual({
      area: 'rainbow',
      check: 'caBundle',
      status: 'fail',
      finding: 'no caBundle in workloads.rainbow.dev, pods.rainbow.dev: the API server cannot verify the webhook there, so those entries fail (validating: guarded deletes refused; mutating: cutover skipped)',
      fix: "the webhook injects its CA when it starts (--inject-ca): check its pods (kubectl -n rainbow-system logs deploy/rainbow-webhook); with tls.existingSecret give tls.caBundle or cert-manager's inject-ca-from",
    });
  });

  it('fails when the webhook Service has no ready endpoint, warns when it cannot list them, skips a webhook by URL', () => {
    expect(byCheck({ endpointSlices: found([{ addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: false } }] }]) }, 'endpoints')).toEqual({
      area: 'rainbow',
      check: 'endpoints',
      status: 'fail',
      finding: 'Service rainbow-system/rainbow-webhook has no ready endpoint: the API server cannot call the webhook, so guarded deletes are refused and the cutover is skipped',
      fix: 'bring the webhook pods up: kubectl -n rainbow-system get pods -l app.kubernetes.io/component=webhook',
    });
    expect(byCheck({ endpointSlices: forbidden({ verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace: 'rainbow-system' }) }, 'endpoints')).toEqual({
      area: 'rainbow',
      check: 'endpoints',
      status: 'warn',
      finding: 'cannot list endpointslices.discovery.k8s.io in rainbow-system: forbidden (forbidden by RBAC); whether the webhook Service rainbow-system/rainbow-webhook has ready pods is not known',
      fix: 'grant list on endpointslices.discovery.k8s.io in rainbow-system to whoever runs doctor, or run it with credentials that have it',
    });
    const url = found({ webhooks: [{ name: 'services.rainbow.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: 'https://10.0.0.1:8443/mutate/services', caBundle: 'Q0E=' } }] });
    expect(byCheck({ mutating: url, validating: url }, 'endpoints')).toEqual({
      area: 'rainbow',
      check: 'endpoints',
      status: 'ok',
      finding: 'the API server calls the webhook at https://10.0.0.1:8443/mutate/services (webhook.url): not a Service, not checked from here',
    });
  });

  it('fails when the Lease is released or stale', () => {
    expect(byCheck({ lease: found({ spec: { holderIdentity: '', leaseDurationSeconds: 15 } }) }, 'lease')).toEqual({
      area: 'rainbow',
      check: 'lease',
      status: 'fail',
      finding: 'Lease rainbow-system/rainbow-controller is held by nobody: the last controller released it and none took over',
      fix: CONTROLLER_FIX,
    });
    // Read back, a MicroTime is a string.
    const renewTime = new Date(NOW.getTime() - 600_000).toISOString().replace('Z', '000Z') as unknown as Date;
    expect(byCheck({ lease: found({ spec: { holderIdentity: 'ctl-1', leaseDurationSeconds: 15, renewTime } }) }, 'lease')).toEqual({
      area: 'rainbow',
      check: 'lease',
      status: 'fail',
      finding: 'Lease rainbow-system/rainbow-controller was last renewed 10m ago by ctl-1 (lease 15s): its controller is not running',
      fix: CONTROLLER_FIX,
    });
  });

  it('warns when the webhook runs another version or no tag; a digest cannot be compared', () => {
    expect(byCheck({ webhookDeployment: webhookImage('registry.example.com:5000/rainbow:0.0.9') }, 'version')).toEqual({
      area: 'rainbow',
      check: 'version',
      status: 'warn',
      finding: 'the webhook runs registry.example.com:5000/rainbow:0.0.9, this CLI is 0.1.0: what doctor checks assumes one release',
      fix: "use the CLI of the webhook's release, or upgrade rainbow-system to it (helm upgrade … --set image.tag=0.1.0)",
    });
    expect(byCheck({ webhookDeployment: webhookImage('registry.example.com:5000/rainbow') }, 'version')!.finding).toBe(
      'the webhook runs registry.example.com:5000/rainbow (no tag: latest), this CLI is 0.1.0: what doctor checks assumes one release',
    );
    expect(byCheck({ webhookDeployment: webhookImage('rainbow:v0.1.0') }, 'version')!.status).toBe('ok');
    expect(byCheck({ webhookDeployment: webhookImage('rainbow@sha256:0123') }, 'version')).toEqual({
      area: 'rainbow',
      check: 'version',
      status: 'ok',
      finding: "the webhook runs rainbow@sha256:0123, pinned by digest: doctor cannot compare it with this CLI's 0.1.0",
    });
    expect(imageReference('registry:5000/rainbow:0.1.0@sha256:ab')).toEqual({ tag: '0.1.0', digest: 'sha256:ab' });
    expect(imageReference('registry:5000/rainbow')).toEqual({});
  });
});
