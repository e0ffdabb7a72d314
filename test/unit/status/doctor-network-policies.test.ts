// rainbow doctor's NetworkPolicy check: policies that isolate an app's pods must admit rainbow's pods to the connections port.
import type { V1Deployment, V1NetworkPolicy, V1NetworkPolicyIngressRule } from '@kubernetes/client-node';
import { admits, checkNetworkPolicies, connectionsPort, isolatesIngress, namedPorts, rainbowPeers } from '../../../webhook/src/status/doctor/network-policies.js';
import { deployment, service } from '../../support/builders.js';
import { appObjects, controllerLabels, forbidden, found, input, rainbow, SERVING, SYS } from './doctor-fixture.js';
import type { DoctorInput } from '../../../webhook/src/status/doctor/input.js';

const policy = (name: string, ingress: V1NetworkPolicyIngressRule[] | undefined, spec: Partial<NonNullable<V1NetworkPolicy['spec']>> = {}): V1NetworkPolicy => ({
  metadata: { name, namespace: 'shop' },
  spec: { podSelector: { matchLabels: { 'rainbow.dev/app': 'web' } }, policyTypes: ['Ingress'], ...(ingress ? { ingress } : {}), ...spec },
});
const fromRainbowNs = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': SYS } } };
const run = (policies: V1NetworkPolicy[], extra: Partial<DoctorInput> = {}) => checkNetworkPolicies(input({ networkPolicies: { shop: found(policies) }, ...extra }));
const FIX_9471 = 'add an ingress rule to one of them: from [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: rainbow-system}}}], ports [{protocol: TCP, port: 9471}]';
const CONTROLLER_BLOCKED = 'the controller cannot count them and deletes no such color before max-drain';

/** A color whose reporter sidecar declares the named port `connections`. */
function withReporter(port = 9471, annotations: Record<string, string> = {}): V1Deployment {
  const d = deployment({ color: SERVING });
  d.spec!.template!.metadata!.annotations = annotations;
  d.spec!.template!.spec!.initContainers = [{ name: 'reporter', restartPolicy: 'Always', ports: [{ name: 'connections', containerPort: port }] }];
  return d;
}

describe('network policies', () => {
  it('is ok when no policy isolates the app, or when one admits rainbow’s namespace to the port', () => {
    expect(run([])).toEqual([{ area: 'network policies', check: 'shop/web', status: 'ok', finding: "no NetworkPolicy in shop restricts ingress to web's pods" }]);
    expect(run([policy('allow-rainbow', [{ _from: [fromRainbowNs], ports: [{ protocol: 'TCP', port: 9471 }] }])])).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'ok',
        finding: "NetworkPolicy allow-rainbow selects web's pods and admits rainbow's webhook and controller pods (namespace rainbow-system) to port 9471",
      },
    ]);
  });

  it('fails when the policies admit neither rainbow pod to the port', () => {
    expect(run([policy('web-only', [{ ports: [{ port: 8080 }] }]), policy('deny-all', undefined)])).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'fail',
        finding: `NetworkPolicies deny-all, web-only select the pods of color 3c3fdc and admit neither the webhook nor the controller pods (namespace rainbow-system) to port 9471: the guard cannot ask those pods and so refuses to remove them, and ${CONTROLLER_BLOCKED}`,
        fix: FIX_9471,
      },
    ]);
  });

  it('fails naming the controller when only the webhook’s pods are admitted', () => {
    const webhookOnly = policy('webhook-only', [{ _from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'webhook' } } }], ports: [{ port: 9471 }] }]);
    expect(run([webhookOnly])).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'fail',
        finding: `NetworkPolicy webhook-only selects the pods of color 3c3fdc and admits no controller pods (namespace rainbow-system) to port 9471: ${CONTROLLER_BLOCKED}`,
        fix: FIX_9471,
      },
    ]);
  });

  it('checks only the controller when the webhook runs outside the cluster', () => {
    const byUrl = (path: string) => found({ webhooks: [{ name: `${path}.rainbow.dev`, admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: `https://10.0.0.1:8443/${path}`, caBundle: 'Q0E=' } }] });
    const outside = rainbow({ mutating: byUrl('mutate'), validating: byUrl('validate') });
    expect(run([policy('web-only', [{ ports: [{ port: 8080 }] }])], { rainbow: outside })).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'fail',
        finding: `NetworkPolicy web-only selects the pods of color 3c3fdc and admits no controller pods (namespace rainbow-system) to port 9471: ${CONTROLLER_BLOCKED}; the webhook runs outside the cluster (by URL), and whether a policy admits its address is not checked`,
        fix: FIX_9471,
      },
    ]);
    expect(rainbowPeers({ rainbow: outside }).peers.map((p) => p.component)).toEqual(['controller']);
  });

  it('resolves named ports, port ranges and rainbow.dev/connections-port', () => {
    const named = policy('named', [{ _from: [fromRainbowNs], ports: [{ port: 'connections' }] }]);
    expect(run([named], appObjects([service({ color: SERVING })], [withReporter()]))[0]!.status).toBe('ok');
    const range = policy('range', [{ _from: [fromRainbowNs], ports: [{ port: 9400, endPort: 9500 }] }]);
    expect(run([range], appObjects([service({ color: SERVING })], [withReporter(9600, { 'rainbow.dev/connections-port': '9600' })]))).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'fail',
        finding: `NetworkPolicy range selects the pods of color 3c3fdc and admits neither the webhook nor the controller pods (namespace rainbow-system) to port 9600: the guard cannot ask those pods and so refuses to remove them, and ${CONTROLLER_BLOCKED}`,
        fix: 'add an ingress rule to one of them: from [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: rainbow-system}}}], ports [{protocol: TCP, port: 9600}]',
      },
    ]);
    expect(connectionsPort(withReporter(9600, { 'rainbow.dev/connections-port': '9600' }))).toBe(9600);
    expect(connectionsPort(withReporter(9471, { 'rainbow.dev/connections-port': 'nine' }))).toBe(9471);
    expect(namedPorts(withReporter())).toEqual({ connections: 9471 });
  });

  it('evaluates peers as the API defines them', () => {
    const [webhook, controller] = rainbowPeers({ rainbow: rainbow() }).peers;
    const rule = (r: V1NetworkPolicyIngressRule) => policy('p', [r]);
    // An empty rule admits everyone; an empty namespaceSelector every namespace.
    expect(admits(rule({}), webhook!, 9471, {})).toBe(true);
    expect(admits(rule({ _from: [{ namespaceSelector: {} }] }), controller!, 9471, {})).toBe(true);
    // A podSelector alone selects pods of the policy's own namespace only.
    expect(admits(rule({ _from: [{ podSelector: { matchLabels: controllerLabels } }] }), controller!, 9471, {})).toBe(false);
    // An ipBlock is not counted; nor a UDP port.
    expect(admits(rule({ _from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }), controller!, 9471, {})).toBe(false);
    expect(admits(rule({ ports: [{ protocol: 'UDP', port: 9471 }] }), controller!, 9471, {})).toBe(false);
    // A namespace label the rainbow namespace lacks.
    expect(admits(rule({ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }] }), controller!, 9471, {})).toBe(false);
    // An Egress-only policy isolates nothing for ingress; no policyTypes means Ingress.
    expect(isolatesIngress(policy('e', undefined, { policyTypes: ['Egress'] }), { 'rainbow.dev/app': 'web' })).toBe(false);
    expect(isolatesIngress(policy('i', undefined, { policyTypes: undefined }), { 'rainbow.dev/app': 'web' })).toBe(true);
    expect(isolatesIngress(policy('other', undefined, { podSelector: { matchLabels: { app: 'db' } } }), { 'rainbow.dev/app': 'web' })).toBe(false);
  });

  it('matches the rainbow namespace by its own labels when it could read them', () => {
    const team = policy('team', [{ _from: [{ namespaceSelector: { matchLabels: { team: 'platform' } } }] }]);
    expect(run([team], { rainbow: rainbow({ namespaceLabels: found({ 'kubernetes.io/metadata.name': SYS, team: 'platform' }) }) })[0]!.status).toBe('ok');
    expect(run([team])[0]!.status).toBe('fail');
  });

  it('warns when it cannot list policies', () => {
    expect(checkNetworkPolicies(input({ networkPolicies: { shop: forbidden({ verb: 'list', resource: 'networkpolicies.networking.k8s.io', namespace: 'shop' }) } }))).toEqual([
      {
        area: 'network policies',
        check: 'shop/web',
        status: 'warn',
        finding: "cannot list networkpolicies.networking.k8s.io in shop: forbidden (forbidden by RBAC); whether policies keep rainbow from web's pods is not known",
        fix: 'grant list on networkpolicies.networking.k8s.io in shop to whoever runs doctor, or run it with credentials that have it',
      },
    ]);
  });

  it('says so when there are no Deployments to check', () => {
    expect(checkNetworkPolicies(input(appObjects([service({ color: SERVING })], [])))).toEqual([
      { area: 'network policies', check: 'apps', status: 'ok', finding: 'no rainbow Deployments in namespace shop: no pods to check policies against' },
    ]);
  });
});
