// rainbow doctor's datapath checks: kube-proxy's mode, Cilium's kube-proxy replacement and Calico's eBPF dataplane.
import { checkDatapath } from '../../../webhook/src/status/doctor/datapath.js';
import { flagValue, kubeProxySettings } from '../../../webhook/src/status/doctor/kube-proxy.js';
import { deployment, service } from '../../support/builders.js';
import { appObjects, forbidden, found, input, kubeProxyConfig, NO_KUBE_PROXY, SERVING } from './doctor-fixture.js';

const SURVIVES =
  'a Service whose selector moves leaves established TCP flows on the old pods (kube-proxy deletes conntrack entries of removed endpoints for UDP only); only a flow idle past the conntrack TCP established timeout is at risk (see conntrack)';
const OUTSIDE_FIX = 'bring outside traffic in through an in-cluster proxy (Ingress or Gateway pods, whose connections to the app are pod connections) or a load balancer that targets pod IPs directly';
const CILIUM_ABSENT = { area: 'datapath', check: 'cilium', status: 'ok', finding: 'no cilium-config ConfigMap in kube-system: Cilium is not installed' };
const CALICO_ABSENT = { area: 'datapath', check: 'calico', status: 'ok', finding: 'no FelixConfiguration default (crd.projectcalico.org/v1): Calico is not installed' };
const kubeProxyOf = (i = input()) => checkDatapath(i)[0];

describe('kube-proxy', () => {
  it('is ok in nftables mode, read from kubeadm’s config.conf', () => {
    expect(checkDatapath(input())).toEqual([
      { area: 'datapath', check: 'kube-proxy', status: 'ok', finding: `nftables mode from config.conf of ConfigMap kube-system/kube-proxy: ${SURVIVES}` },
      CILIUM_ABSENT,
      CALICO_ABSENT,
    ]);
  });

  it('is ok with mode "" (iptables, the Linux default) and with iptables', () => {
    expect(kubeProxyOf(input({ kubeProxy: kubeProxyConfig({ mode: '' }) }))).toEqual({
      area: 'datapath',
      check: 'kube-proxy',
      status: 'ok',
      finding: `iptables mode (mode "", the Linux default) from config.conf of ConfigMap kube-system/kube-proxy: ${SURVIVES}`,
    });
    expect(kubeProxyOf(input({ kubeProxy: kubeProxyConfig({ mode: 'iptables' }) }))!.finding).toBe(`iptables mode from config.conf of ConfigMap kube-system/kube-proxy: ${SURVIVES}`);
  });

  it('warns in ipvs mode, the DaemonSet’s --proxy-mode winning over config.conf', () => {
    expect(kubeProxyOf(input({ kubeProxy: kubeProxyConfig({ mode: 'nftables' }, ['--proxy-mode=ipvs']) }))).toEqual({
      area: 'datapath',
      check: 'kube-proxy',
      status: 'warn',
      finding:
        'ipvs mode from --proxy-mode of DaemonSet kube-system/kube-proxy: a backend that leaves the Service gets weight 0 and is kept until its connections are idle, so flows usually survive; but flows have been reported blackholed at that point, and the ipvs mode is deprecated since Kubernetes 1.35',
      fix: 'switch kube-proxy to nftables (mode: nftables in config.conf; iptables works too) and restart its pods',
    });
  });

  it('warns on a mode it does not know, and on a config.conf it cannot parse', () => {
    expect(kubeProxyOf(input({ kubeProxy: kubeProxyConfig({ mode: 'kernelspace' }) }))).toEqual({
      area: 'datapath',
      check: 'kube-proxy',
      status: 'warn',
      finding: 'mode "kernelspace" from config.conf of ConfigMap kube-system/kube-proxy: doctor knows how iptables, nftables and ipvs treat established flows, not this mode',
      fix: 'check that established flows survive a selector move in this mode, or use nftables',
    });
    expect(kubeProxyOf(input({ kubeProxy: { ...NO_KUBE_PROXY, configMap: found({ 'config.conf': 'mode: [' }) } }))).toEqual({
      area: 'datapath',
      check: 'kube-proxy',
      status: 'warn',
      finding: 'cannot read config.conf of ConfigMap kube-system/kube-proxy: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 8',
      fix: 'correct it: doctor reads it as kube-proxy does',
    });
  });

  it('warns when there is no kube-proxy and nothing replaces it', () => {
    expect(checkDatapath(input({ kubeProxy: NO_KUBE_PROXY }))).toEqual([
      {
        area: 'datapath',
        check: 'kube-proxy',
        status: 'warn',
        finding:
          "no ConfigMap kube-system/kube-proxy or DaemonSet kube-system/kube-proxy, and neither Cilium's kube-proxy replacement nor Calico's eBPF dataplane: doctor cannot tell what serves Services here (a kube-proxy run outside the API, as on some managed nodes, is not visible)",
        fix: 'find out what implements Services in this cluster and check that established flows stay on their pods when a selector moves; kube-proxy in iptables or nftables mode keeps them',
      },
      CILIUM_ABSENT,
      CALICO_ABSENT,
    ]);
  });

  it('says which reads were refused instead of crashing', () => {
    const result = kubeProxyOf(
      input({
        kubeProxy: {
          configMap: forbidden(
            { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy' },
            'configmaps "kube-proxy" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "kube-system"',
          ),
          daemonSetArgs: forbidden({ verb: 'get', resource: 'daemonsets.apps', namespace: 'kube-system', name: 'kube-proxy' }),
        },
      }),
    );
    expect(result).toEqual({
      area: 'datapath',
      check: 'kube-proxy',
      status: 'warn',
      finding:
        'cannot get configmaps kube-proxy in kube-system: forbidden (configmaps "kube-proxy" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "kube-system"); the kube-proxy mode is not known; get daemonsets.apps kube-proxy in kube-system was refused too',
      fix: 'grant get on configmaps in kube-system to whoever runs doctor, or run it with credentials that have it',
    });
  });

  it('reads flags in both spellings, the last one winning', () => {
    expect(flagValue(['--proxy-mode', 'ipvs', '--proxy-mode=nftables'], 'proxy-mode')).toBe('nftables');
    expect(flagValue(['--proxy-mode', 'ipvs'], 'proxy-mode')).toBe('ipvs');
    expect(flagValue(['--proxy-mode'], 'proxy-mode')).toBeUndefined();
    expect(kubeProxySettings({ kubeProxy: kubeProxyConfig({ tcpEstablishedTimeout: '24h0m0s' }) })).toEqual({
      kind: 'found',
      settings: {
        mode: '',
        modeSource: 'config.conf of ConfigMap kube-system/kube-proxy',
        tcpEstablishedSeconds: 86400,
        timeoutSource: 'conntrack.tcpEstablishedTimeout in config.conf of ConfigMap kube-system/kube-proxy',
      },
    });
  });
});

describe('cilium', () => {
  const withCilium = (data: Record<string, string>, extra = {}) => checkDatapath(input({ kubeProxy: NO_KUBE_PROXY, ciliumConfig: found(data), ...extra }));
  const SOCKET_FIX = 'let Cilium load-balance pods at the socket: bpf-lb-sock: "true" and bpf-lb-sock-hostns-only: "false" in cilium-config (Helm: socketLB.enabled=true, socketLB.hostNamespaceOnly=false), then restart the Cilium agents';
  const PER_PACKET =
    "pods' connections to a Service go through the per-packet load balancer, which drops the old color's pods from the backends when the selector moves; the next packet of an established flow goes to a new backend, which answers with a RST";

  it('is ok with kube-proxy replacement and socket load balancing (its default), kube-proxy then not needed', () => {
    expect(withCilium({ 'kube-proxy-replacement': 'true' })).toEqual([
      { area: 'datapath', check: 'kube-proxy', status: 'ok', finding: "no ConfigMap kube-system/kube-proxy or DaemonSet kube-system/kube-proxy: Cilium's kube-proxy replacement serves Services (below)" },
      {
        area: 'datapath',
        check: 'cilium',
        status: 'ok',
        finding: "kube-proxy replacement with socket load balancing: a pod's connection to a Service is connected to its backend when it opens, so a selector move leaves it alone",
      },
      { area: 'datapath', check: 'cilium (outside)', status: 'ok', finding: 'no rainbow Service is NodePort or LoadBalancer, so no traffic from outside reaches the apps through the per-packet load balancer' },
      CALICO_ABSENT,
    ]);
    expect(withCilium({ 'kube-proxy-replacement': 'strict', 'bpf-lb-sock': 'true' })[1]!.status).toBe('ok');
  });

  it('is ok without kube-proxy replacement', () => {
    expect(withCilium({ 'kube-proxy-replacement': 'false' })[1]).toEqual({
      area: 'datapath',
      check: 'cilium',
      status: 'ok',
      finding: "Cilium without kube-proxy replacement (kube-proxy-replacement=false): Services are kube-proxy's",
    });
  });

  it('fails when pods go through the per-packet load balancer', () => {
    expect(withCilium({ 'kube-proxy-replacement': 'true', 'bpf-lb-sock': 'false' })[1]).toEqual({
      area: 'datapath',
      check: 'cilium',
      status: 'fail',
      finding: `kube-proxy replacement with socket load balancing off (bpf-lb-sock: "false"): ${PER_PACKET}`,
      fix: SOCKET_FIX,
    });
    expect(withCilium({ 'kube-proxy-replacement': 'true', 'bpf-lb-sock-hostns-only': 'true' })[1]).toEqual({
      area: 'datapath',
      check: 'cilium',
      status: 'fail',
      finding: `kube-proxy replacement with socket load balancing for the host only (bpf-lb-sock-hostns-only: "true"): ${PER_PACKET}`,
      fix: SOCKET_FIX,
    });
  });

  it('warns on partial replacement, on outside traffic to rainbow Services, and when it cannot read cilium-config', () => {
    expect(withCilium({ 'kube-proxy-replacement': 'partial' })[1]).toEqual({
      area: 'datapath',
      check: 'cilium',
      status: 'warn',
      finding: 'kube-proxy-replacement=partial: which Services Cilium load-balances itself, and how, depends on the features it turned on',
      fix: 'use kube-proxy-replacement: "true" with socket load balancing for pods (bpf-lb-sock), or "false" to leave Services to kube-proxy',
    });
    const lb = service({ name: 'web-lb', color: SERVING });
    lb.spec!.type = 'LoadBalancer';
    expect(withCilium({ 'kube-proxy-replacement': 'true' }, appObjects([service({ color: SERVING }), lb], [deployment({ color: SERVING })]))[2]).toEqual({
      area: 'datapath',
      check: 'cilium (outside)',
      status: 'warn',
      finding: 'shop/web-lb takes traffic from outside the cluster, which kube-proxy replacement load-balances per packet: when the selector moves, those flows are cut (RST)',
      fix: OUTSIDE_FIX,
    });
    expect(checkDatapath(input({ ciliumConfig: forbidden({ verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'cilium-config' }) }))[1]).toEqual({
      area: 'datapath',
      check: 'cilium',
      status: 'warn',
      finding: 'cannot get configmaps cilium-config in kube-system: forbidden (forbidden by RBAC); whether Cilium load-balances Services is not known',
      fix: 'grant get on configmaps in kube-system to whoever runs doctor, or run it with credentials that have it',
    });
  });
});

describe('calico', () => {
  const withFelix = (spec: Record<string, unknown>) => checkDatapath(input({ felixConfiguration: found({ spec }) }))[2];
  const CTLB_OFF = {
    area: 'datapath',
    check: 'calico',
    status: 'fail',
    finding:
      "eBPF dataplane with connect-time load balancing off (bpfConnectTimeLoadBalancing: Disabled): every connection to a Service is NATed per packet, and Felix's NAT scanner deletes the entries whose backend left the Service, so the old color's established flows are likely cut when the selector moves",
    fix: 'set bpfConnectTimeLoadBalancing: TCP (or Enabled) in FelixConfiguration default, so that pods connect straight to their backend',
  };

  it('is ok without the eBPF dataplane', () => {
    expect(withFelix({ bpfEnabled: false })).toEqual({
      area: 'datapath',
      check: 'calico',
      status: 'ok',
      finding: "Calico without the eBPF dataplane (FelixConfiguration default: bpfEnabled is not true): Services are kube-proxy's",
    });
  });

  it('warns with the eBPF dataplane and connect-time load balancing: outside traffic is NATed per packet', () => {
    expect(withFelix({ bpfEnabled: true })).toEqual({
      area: 'datapath',
      check: 'calico',
      status: 'warn',
      finding:
        "eBPF dataplane: pods' TCP connections to Services are translated when they open (bpfConnectTimeLoadBalancing: TCP), but traffic from outside the cluster (NodePort, LoadBalancer) goes through the per-packet NAT, whose scanner deletes entries whose backend left the Service: those flows are likely cut when the selector moves",
      fix: OUTSIDE_FIX,
    });
    expect(withFelix({ bpfEnabled: true, bpfConnectTimeLoadBalancingEnabled: true })!.finding).toContain('(bpfConnectTimeLoadBalancing: Enabled)');
  });

  it('fails with the eBPF dataplane and connect-time load balancing off, in either spelling', () => {
    expect(withFelix({ bpfEnabled: true, bpfConnectTimeLoadBalancing: 'Disabled' })).toEqual(CTLB_OFF);
    expect(withFelix({ bpfEnabled: true, bpfConnectTimeLoadBalancingEnabled: false })).toEqual(CTLB_OFF);
  });

  it('warns when it cannot read the FelixConfiguration', () => {
    expect(checkDatapath(input({ felixConfiguration: forbidden({ verb: 'get', resource: 'felixconfigurations.crd.projectcalico.org', name: 'default' }) }))[2]).toEqual({
      area: 'datapath',
      check: 'calico',
      status: 'warn',
      finding: "cannot get felixconfigurations.crd.projectcalico.org default: forbidden (forbidden by RBAC); whether Calico's eBPF dataplane serves Services is not known",
      fix: 'grant get on felixconfigurations.crd.projectcalico.org to whoever runs doctor, or run it with credentials that have it',
    });
  });
});
