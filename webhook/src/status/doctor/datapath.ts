// Datapath: what happens to an established flow when a Service's selector moves away from pods
// that keep running. Rainbow's promise rests on it: the old color keeps its connections (pure).
import type { V1Service } from '@kubernetes/client-node';
import { DAEMONSET, CONFIGMAP, kubeProxySettings } from './kube-proxy.js';
import { describeTarget, type DoctorInput, type Read } from './input.js';
import { fail, ok, unreadable, warn, type CheckResult } from './result.js';

export type CiliumFinding =
  | { kind: 'absent' }
  | { kind: 'unreadable'; read: Read<unknown> }
  | { kind: 'found'; kpr: 'on' | 'off' | 'partial'; kprRaw: string; socketLb: boolean; hostnsOnly: boolean };

export type CalicoFinding =
  | { kind: 'absent' }
  | { kind: 'unreadable'; read: Read<unknown> }
  | { kind: 'found'; bpf: boolean; connectTimeLb: 'TCP' | 'Enabled' | 'Disabled' };

export function ciliumSettings(input: Pick<DoctorInput, 'ciliumConfig'>): CiliumFinding {
  const r = input.ciliumConfig;
  if (r.status === 'absent') return { kind: 'absent' };
  if (r.status !== 'found') return { kind: 'unreadable', read: r };
  const kprRaw = (r.value['kube-proxy-replacement'] ?? '').trim();
  const k = kprRaw.toLowerCase();
  const kpr = k === 'true' || k === 'strict' ? 'on' : k === '' || k === 'false' || k === 'disabled' ? 'off' : 'partial';
  const sock = r.value['bpf-lb-sock']?.trim().toLowerCase();
  // Socket load balancing comes with kube-proxy replacement unless bpf-lb-sock says otherwise.
  const socketLb = sock === undefined ? kpr === 'on' : sock === 'true';
  return { kind: 'found', kpr, kprRaw, socketLb, hostnsOnly: r.value['bpf-lb-sock-hostns-only']?.trim().toLowerCase() === 'true' };
}

export function calicoSettings(input: Pick<DoctorInput, 'felixConfiguration'>): CalicoFinding {
  const r = input.felixConfiguration;
  if (r.status === 'absent') return { kind: 'absent' };
  if (r.status !== 'found') return { kind: 'unreadable', read: r };
  const spec = r.value.spec ?? {};
  const ctlb = spec.bpfConnectTimeLoadBalancing;
  const legacy = spec.bpfConnectTimeLoadBalancingEnabled;
  const connectTimeLb =
    ctlb === 'Disabled' || ctlb === 'Enabled' || ctlb === 'TCP' ? ctlb : legacy === false ? 'Disabled' : legacy === true ? 'Enabled' : 'TCP';
  return { kind: 'found', bpf: spec.bpfEnabled === true, connectTimeLb };
}

/** Whether kube-proxy's job is done by an eBPF dataplane (then its conntrack settings do not apply). */
export function kubeProxyReplaced(input: Pick<DoctorInput, 'ciliumConfig' | 'felixConfiguration'>): string | undefined {
  const cilium = ciliumSettings(input);
  if (cilium.kind === 'found' && cilium.kpr === 'on') return "Cilium's kube-proxy replacement";
  const calico = calicoSettings(input);
  if (calico.kind === 'found' && calico.bpf) return "Calico's eBPF dataplane";
  return undefined;
}

/** rainbow Services that take traffic from outside the cluster through nodes or a load balancer. */
export function externalServices(input: Pick<DoctorInput, 'services'>): string[] {
  if (input.services.status !== 'found') return [];
  return input.services.value
    .filter((s: V1Service) => s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer' || (s.spec?.externalIPs?.length ?? 0) > 0)
    .map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)
    .sort();
}

const SURVIVES = 'a Service whose selector moves leaves established TCP flows on the old pods (kube-proxy deletes conntrack entries of removed endpoints for UDP only); only a flow idle past the conntrack TCP established timeout is at risk (see conntrack)';
const OUTSIDE_FIX = 'bring outside traffic in through an in-cluster proxy (Ingress or Gateway pods, whose connections to the app are pod connections) or a load balancer that targets pod IPs directly';

function kubeProxyCheck(input: DoctorInput): CheckResult {
  const k = kubeProxySettings(input);
  if (k.kind === 'unreadable') {
    const second = k.reads[1];
    const also = second && second.status !== 'found' && second.status !== 'absent' ? `; ${describeTarget(second.target)} ${second.status === 'forbidden' ? 'was refused' : 'failed'} too` : '';
    return unreadable('datapath', 'kube-proxy', k.reads[0]!, `the kube-proxy mode is not known${also}`)!;
  }
  if (k.kind === 'invalid') return warn('datapath', 'kube-proxy', `cannot read ${k.source}: ${k.error}`, 'correct it: doctor reads it as kube-proxy does');
  if (k.kind === 'absent') {
    const by = kubeProxyReplaced(input);
    if (by) return ok('datapath', 'kube-proxy', `no ${CONFIGMAP} or ${DAEMONSET}: ${by} serves Services (below)`);
    return warn(
      'datapath',
      'kube-proxy',
      `no ${CONFIGMAP} or ${DAEMONSET}, and neither Cilium's kube-proxy replacement nor Calico's eBPF dataplane: doctor cannot tell what serves Services here (a kube-proxy run outside the API, as on some managed nodes, is not visible)`,
      'find out what implements Services in this cluster and check that established flows stay on their pods when a selector moves; kube-proxy in iptables or nftables mode keeps them',
    );
  }
  const { mode, modeSource } = k.settings;
  const m = mode.trim().toLowerCase();
  if (m === '' || m === 'iptables') return ok('datapath', 'kube-proxy', `iptables mode${m === '' ? ' (mode "", the Linux default)' : ''} from ${modeSource}: ${SURVIVES}`);
  if (m === 'nftables') return ok('datapath', 'kube-proxy', `nftables mode from ${modeSource}: ${SURVIVES}`);
  if (m === 'ipvs') {
    return warn(
      'datapath',
      'kube-proxy',
      `ipvs mode from ${modeSource}: a backend that leaves the Service gets weight 0 and is kept until its connections are idle, so flows usually survive; but flows have been reported blackholed at that point, and the ipvs mode is deprecated since Kubernetes 1.35`,
      'switch kube-proxy to nftables (mode: nftables in config.conf; iptables works too) and restart its pods',
    );
  }
  return warn('datapath', 'kube-proxy', `mode "${mode}" from ${modeSource}: doctor knows how iptables, nftables and ipvs treat established flows, not this mode`, 'check that established flows survive a selector move in this mode, or use nftables');
}

function ciliumChecks(input: DoctorInput): CheckResult[] {
  const c = ciliumSettings(input);
  if (c.kind === 'absent') return [ok('datapath', 'cilium', 'no cilium-config ConfigMap in kube-system: Cilium is not installed')];
  if (c.kind === 'unreadable') return [unreadable('datapath', 'cilium', c.read, "whether Cilium load-balances Services is not known")!];
  if (c.kpr === 'off') return [ok('datapath', 'cilium', `Cilium without kube-proxy replacement (kube-proxy-replacement=${c.kprRaw || 'unset'}): Services are kube-proxy's`)];
  if (c.kpr === 'partial') {
    return [
      warn(
        'datapath',
        'cilium',
        `kube-proxy-replacement=${c.kprRaw}: which Services Cilium load-balances itself, and how, depends on the features it turned on`,
        'use kube-proxy-replacement: "true" with socket load balancing for pods (bpf-lb-sock), or "false" to leave Services to kube-proxy',
      ),
    ];
  }
  const results: CheckResult[] = [];
  if (!c.socketLb || c.hostnsOnly) {
    results.push(
      fail(
        'datapath',
        'cilium',
        `kube-proxy replacement with ${!c.socketLb ? 'socket load balancing off (bpf-lb-sock: "false")' : 'socket load balancing for the host only (bpf-lb-sock-hostns-only: "true")'}: pods' connections to a Service go through the per-packet load balancer, which drops the old color's pods from the backends when the selector moves; the next packet of an established flow goes to a new backend, which answers with a RST`,
        'let Cilium load-balance pods at the socket: bpf-lb-sock: "true" and bpf-lb-sock-hostns-only: "false" in cilium-config (Helm: socketLB.enabled=true, socketLB.hostNamespaceOnly=false), then restart the Cilium agents',
      ),
    );
  } else {
    results.push(ok('datapath', 'cilium', "kube-proxy replacement with socket load balancing: a pod's connection to a Service is connected to its backend when it opens, so a selector move leaves it alone"));
  }
  const outside = externalServices(input);
  results.push(
    outside.length === 0
      ? ok('datapath', 'cilium (outside)', 'no rainbow Service is NodePort or LoadBalancer, so no traffic from outside reaches the apps through the per-packet load balancer')
      : warn(
          'datapath',
          'cilium (outside)',
          `${outside.join(', ')} take${outside.length === 1 ? 's' : ''} traffic from outside the cluster, which kube-proxy replacement load-balances per packet: when the selector moves, those flows are cut (RST)`,
          OUTSIDE_FIX,
        ),
  );
  return results;
}

function calicoCheck(input: DoctorInput): CheckResult {
  const c = calicoSettings(input);
  if (c.kind === 'absent') return ok('datapath', 'calico', 'no FelixConfiguration default (crd.projectcalico.org/v1): Calico is not installed');
  if (c.kind === 'unreadable') return unreadable('datapath', 'calico', c.read, "whether Calico's eBPF dataplane serves Services is not known")!;
  if (!c.bpf) return ok('datapath', 'calico', "Calico without the eBPF dataplane (FelixConfiguration default: bpfEnabled is not true): Services are kube-proxy's");
  if (c.connectTimeLb === 'Disabled') {
    return fail(
      'datapath',
      'calico',
      "eBPF dataplane with connect-time load balancing off (bpfConnectTimeLoadBalancing: Disabled): every connection to a Service is NATed per packet, and Felix's NAT scanner deletes the entries whose backend left the Service, so the old color's established flows are likely cut when the selector moves",
      'set bpfConnectTimeLoadBalancing: TCP (or Enabled) in FelixConfiguration default, so that pods connect straight to their backend',
    );
  }
  const outside = externalServices(input);
  return warn(
    'datapath',
    'calico',
    `eBPF dataplane: pods' TCP connections to Services are translated when they open (bpfConnectTimeLoadBalancing: ${c.connectTimeLb}), but traffic from outside the cluster (NodePort, LoadBalancer${outside.length ? `: ${outside.join(', ')}` : ''}) goes through the per-packet NAT, whose scanner deletes entries whose backend left the Service: those flows are likely cut when the selector moves`,
    OUTSIDE_FIX,
  );
}

export function checkDatapath(input: DoctorInput): CheckResult[] {
  return [kubeProxyCheck(input), ...ciliumChecks(input), calicoCheck(input)];
}
