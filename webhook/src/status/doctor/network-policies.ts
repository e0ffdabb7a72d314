// NetworkPolicies that isolate an app's pods must let rainbow's webhook and controller pods reach
// the connections port, or the guard cannot ask them and the controller never reads 0 (pure).
import type { V1Deployment, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { ANNOTATION_CONNECTIONS_PORT, DEFAULTS } from '../../domain/contract.js';
import { colorOfDeployment } from '../../domain/availability.js';
import { annotationOf, isBeingDeleted, matchesSelector } from '../../domain/objects.js';
import { appViews, type DoctorInput } from './input.js';
import { webhookEntries } from './rainbow-system.js';
import { fail, ok, unreadable, type CheckResult } from './result.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Peer {
  component: 'webhook' | 'controller';
  namespace: string;
  namespaceLabels: Record<string, string>;
  podLabels: Record<string, string>;
}

/** The pods that ask app pods for their connections, with the labels policies select them by. */
export function rainbowPeers(input: Pick<DoctorInput, 'rainbow'>): { peers: Peer[]; webhookOutside: boolean } {
  const r = input.rainbow;
  const namespaceLabels = r.namespaceLabels.status === 'found' ? { ...r.namespaceLabels.value } : {};
  namespaceLabels[NAMESPACE_NAME_LABEL] ??= r.namespace;
  const podLabels = (d: DoctorInput['rainbow']['webhookDeployment'], component: Peer['component']) =>
    d.status === 'found' ? { ...(d.value.spec?.template?.metadata?.labels ?? {}) } : { 'app.kubernetes.io/name': 'rainbow', 'app.kubernetes.io/component': component };
  const entries = webhookEntries(r);
  const webhookOutside = entries.length > 0 && entries.every((w) => !w.clientConfig?.service);
  const peers: Peer[] = [];
  if (!webhookOutside) peers.push({ component: 'webhook', namespace: r.namespace, namespaceLabels, podLabels: podLabels(r.webhookDeployment, 'webhook') });
  peers.push({ component: 'controller', namespace: r.namespace, namespaceLabels, podLabels: podLabels(r.controllerDeployment, 'controller') });
  return { peers, webhookOutside };
}

/** Where a color's pods are asked: rainbow.dev/connections-port on the pod template, else on the Deployment, else 9471. */
export function connectionsPort(d: V1Deployment): number {
  const raw = (annotationOf(d.spec?.template, ANNOTATION_CONNECTIONS_PORT) ?? annotationOf(d, ANNOTATION_CONNECTIONS_PORT))?.trim();
  const n = Number(raw);
  return raw !== undefined && /^\d+$/.test(raw) && n >= 1 && n <= 65535 ? n : DEFAULTS.connectionsPort;
}

/** Named TCP ports of the pod template's containers (sidecars included). */
export function namedPorts(d: V1Deployment): Record<string, number> {
  const spec = d.spec?.template?.spec;
  const out: Record<string, number> = {};
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) if (p.name && (p.protocol ?? 'TCP') === 'TCP') out[p.name] = p.containerPort;
  }
  return out;
}

/** Whether the policy selects pods with these labels and restricts their ingress. */
export function isolatesIngress(policy: V1NetworkPolicy, podLabels: Record<string, string>): boolean {
  const types = policy.spec?.policyTypes;
  const ingress = types === undefined || types.length === 0 || types.includes('Ingress');
  return ingress && matchesSelector(podLabels, policy.spec?.podSelector ?? {});
}

function peerMatches(p: V1NetworkPolicyPeer, peer: Peer, policyNamespace: string): boolean {
  // An ipBlock is about addresses, not about these pods: it is not counted as admitting them.
  if (p.ipBlock) return false;
  if (p.namespaceSelector) return matchesSelector(peer.namespaceLabels, p.namespaceSelector) && matchesSelector(peer.podLabels, p.podSelector ?? {});
  if (p.podSelector) return policyNamespace === peer.namespace && matchesSelector(peer.podLabels, p.podSelector);
  return false;
}

function portMatches(ports: V1NetworkPolicyPort[] | undefined, port: number, named: Record<string, number>): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== 'TCP') return false;
    if (p.port === undefined || p.port === null) return true;
    if (typeof p.port === 'number') return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    const asNumber = Number(p.port);
    if (/^\d+$/.test(p.port)) return p.endPort ? port >= asNumber && port <= p.endPort : port === asNumber;
    return named[p.port] === port;
  });
}

/** Whether one of the policy's ingress rules lets the peer reach the port. */
export function admits(policy: V1NetworkPolicy, peer: Peer, port: number, named: Record<string, number>): boolean {
  const namespace = policy.metadata?.namespace ?? '';
  return (policy.spec?.ingress ?? []).some((rule) => {
    // client-node names the field `_from` (`from` is a keyword to its generator); plain JSON has `from`.
    const from = rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from ?? [];
    const fromOk = from.length === 0 || from.some((p) => peerMatches(p, peer, namespace));
    return fromOk && portMatches(rule.ports, port, named);
  });
}

const list = (names: string[]) => names.join(', ');
/** `NetworkPolicy a selects … admits` / `NetworkPolicies a, b select … admit`. */
const policiesThat = (names: string[], middle: string) =>
  names.length === 1 ? `NetworkPolicy ${names[0]} selects ${middle} and admits` : `NetworkPolicies ${list(names)} select ${middle} and admit`;

export function checkNetworkPolicies(input: DoctorInput): CheckResult[] {
  const { peers, webhookOutside } = rainbowPeers(input);
  const outsideNote = webhookOutside ? '; the webhook runs outside the cluster (by URL), and whether a policy admits its address is not checked' : '';
  const results: CheckResult[] = [];
  for (const { namespace, app, deployments } of appViews(input)) {
    const colors = deployments.filter((d) => !isBeingDeleted(d));
    if (colors.length === 0) continue;
    const check = `${namespace}/${app}`;
    const read = input.networkPolicies[namespace];
    if (!read || read.status === 'absent') {
      results.push(ok('network policies', check, `no NetworkPolicy in ${namespace} was read`));
      continue;
    }
    if (read.status !== 'found') {
      results.push(unreadable('network policies', check, read, `whether policies keep rainbow from ${app}'s pods is not known`)!);
      continue;
    }
    const policies = read.value.filter((p) => (p.metadata?.namespace ?? namespace) === namespace);
    const problems: string[] = [];
    const denied = new Set<Peer['component']>();
    const selecting = new Set<string>();
    const ports = new Set<number>();
    for (const d of colors) {
      const labels = d.spec?.template?.metadata?.labels ?? {};
      const mine = policies.filter((p) => isolatesIngress(p, labels));
      if (mine.length === 0) continue;
      const port = connectionsPort(d);
      ports.add(port);
      for (const p of mine) selecting.add(p.metadata?.name ?? '(unnamed)');
      const blocked = peers.filter((peer) => !mine.some((p) => admits(p, peer, port, namedPorts(d))));
      if (blocked.length === 0) continue;
      for (const b of blocked) denied.add(b.component);
      const names = mine.map((p) => p.metadata?.name ?? '(unnamed)').sort();
      problems.push(
        `${policiesThat(names, `the pods of color ${colorOfDeployment(d) ?? d.metadata?.name}`)} ${blocked.length === 2 ? 'neither the webhook nor the controller' : `no ${blocked[0]!.component}`} pods (namespace ${blocked[0]!.namespace}) to port ${port}`,
      );
    }
    const rainbowNs = input.rainbow.namespace;
    if (problems.length > 0) {
      const effects = [
        denied.has('webhook') ? 'the guard cannot ask those pods and so refuses to remove them' : '',
        denied.has('controller') ? 'the controller cannot count them and deletes no such color before max-drain' : '',
      ].filter(Boolean);
      results.push(
        fail(
          'network policies',
          check,
          `${problems.join('; ')}: ${effects.join(', and ')}${outsideNote}`,
          `add an ingress rule to one of them: from [{namespaceSelector: {matchLabels: {${NAMESPACE_NAME_LABEL}: ${rainbowNs}}}}], ports [${[...ports].sort((a, b) => a - b).map((p) => `{protocol: TCP, port: ${p}}`).join(', ')}]`,
        ),
      );
    } else if (selecting.size === 0) {
      results.push(ok('network policies', check, `no NetworkPolicy in ${namespace} restricts ingress to ${app}'s pods${outsideNote}`));
    } else {
      results.push(
        ok(
          'network policies',
          check,
          `${policiesThat([...selecting].sort(), `${app}'s pods`)} rainbow's ${peers.map((p) => p.component).join(' and ')} pods (namespace ${rainbowNs}) to port ${list([...ports].sort((a, b) => a - b).map(String))}${outsideNote}`,
        ),
      );
    }
  }
  if (results.length === 0) return [ok('network policies', 'apps', `no rainbow Deployments in ${input.namespace ? `namespace ${input.namespace}` : 'any namespace'}: no pods to check policies against`)];
  return results;
}
