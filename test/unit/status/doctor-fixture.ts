// A DoctorInput of a healthy cluster (kube-proxy in nftables mode, rainbow installed and running,
// one app web in shop serving 3c3fdc) that each test changes in one place.
import type { V1Deployment, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { appKey, buildStatus } from '../../../webhook/src/status/model.js';
import type { DoctorInput, Read, ReadTarget, RainbowInput } from '../../../webhook/src/status/doctor/input.js';
import type { ProbeResult } from '../../../webhook/src/domain/color-states.js';
import { deployment, NS, SERVING, service } from '../../support/builders.js';
import { kubeadmKubeProxyData } from '../../support/kube-proxy-config.js';

export const NOW = new Date('2026-03-02T10:00:00Z');
export const SYS = 'rainbow-system';
export { NS, SERVING };

export const found = <T>(value: T): Read<T> => ({ status: 'found', value });
export const absent = <T>(target: ReadTarget): Read<T> => ({ status: 'absent', target });
export const forbidden = <T>(target: ReadTarget, message = 'forbidden by RBAC'): Read<T> => ({ status: 'forbidden', target, message });

export const webhookLabels = { 'app.kubernetes.io/name': 'rainbow', 'app.kubernetes.io/instance': 'rainbow', 'app.kubernetes.io/component': 'webhook' };
export const controllerLabels = { ...webhookLabels, 'app.kubernetes.io/component': 'controller' };

const serviceRef = { namespace: SYS, name: 'rainbow-webhook', path: '/validate/deployments' };
const entry = (name: string, caBundle: string | undefined = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t') => ({
  name,
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  clientConfig: { service: serviceRef, ...(caBundle ? { caBundle } : {}) },
});

export function rainbow(over: Partial<RainbowInput> = {}): RainbowInput {
  const dep = (component: string, labels: Record<string, string>, image = 'rainbow:0.1.0'): V1Deployment => ({
    metadata: { name: `rainbow-${component}`, namespace: SYS },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: component, image }] } } },
  });
  return {
    fullname: 'rainbow',
    namespace: SYS,
    namespaceLabels: found({ 'kubernetes.io/metadata.name': SYS }),
    mutating: found({ metadata: { name: 'rainbow' }, webhooks: [entry('services.rainbow.dev')] }),
    validating: found({ metadata: { name: 'rainbow' }, webhooks: ['workloads', 'scale', 'pods', 'evictions'].map((n) => entry(`${n}.rainbow.dev`)) }),
    endpointSlices: found([
      {
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.244.0.7'], conditions: { ready: true } },
          { addresses: ['10.244.0.8'], conditions: { ready: true } },
        ],
      },
    ]),
    lease: found({ metadata: { name: 'rainbow-controller', namespace: SYS }, spec: { holderIdentity: 'rainbow-controller-7d9f-x2k4p', leaseDurationSeconds: 15, renewTime: new Date(NOW.getTime() - 3000) as never } }),
    webhookDeployment: found(dep('webhook', webhookLabels)),
    controllerDeployment: found(dep('controller', controllerLabels)),
    ...over,
  };
}

export const withEntry = entry;

/** An app's objects and its status report, counts by color. */
export function appObjects(services: V1Service[], deployments: V1Deployment[], counts: Record<string, ProbeResult> = {}) {
  const probes = new Map([[appKey(NS, 'web'), new Map(Object.entries(counts))]]);
  return {
    services: found(services),
    deployments: found(deployments),
    status: found(buildStatus({ services, deployments, probes, now: NOW })),
  };
}

export function input(over: Partial<DoctorInput> = {}): DoctorInput {
  return {
    now: NOW,
    cliVersion: '0.1.0',
    namespace: NS,
    kubeProxy: {
      configMap: found(kubeadmKubeProxyData({ mode: 'nftables' })),
      daemonSetArgs: found(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)']),
    },
    ciliumConfig: absent({ verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'cilium-config' }),
    felixConfiguration: absent({ verb: 'get', resource: 'felixconfigurations.crd.projectcalico.org', name: 'default' }),
    ...appObjects([service({ color: SERVING, annotations: { 'rainbow.dev/max-drain': '2h' } })], [deployment({ color: SERVING })], { [SERVING]: { count: 3 } }),
    networkPolicies: { [NS]: found([] as V1NetworkPolicy[]) },
    backendConfigs: {},
    rainbow: rainbow(),
    ...over,
  };
}

export const NO_KUBE_PROXY: DoctorInput['kubeProxy'] = {
  configMap: absent({ verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy' }),
  daemonSetArgs: absent({ verb: 'get', resource: 'daemonsets.apps', namespace: 'kube-system', name: 'kube-proxy' }),
};

export const kubeProxyConfig = (o: Parameters<typeof kubeadmKubeProxyData>[0], args: string[] = []): DoctorInput['kubeProxy'] => ({
  configMap: found(kubeadmKubeProxyData(o)),
  daemonSetArgs: found(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', ...args]),
});
