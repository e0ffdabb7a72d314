// The kube-proxy ConfigMap as kubeadm writes it in kube-system (data keys config.conf and
// kubeconfig.conf), with the two fields rainbow doctor reads made settable.
export interface KubeProxyConfigOptions {
  /** `mode:`; kubeadm writes "" (iptables on Linux). */
  mode?: string;
  /** `conntrack.tcpEstablishedTimeout:`; kubeadm writes null (kube-proxy's default, 24h). */
  tcpEstablishedTimeout?: string;
}

export function kubeadmKubeProxyConfig(o: KubeProxyConfigOptions = {}): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: ${o.tcpEstablishedTimeout ?? 'null'}
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: ${JSON.stringify(o.mode ?? '')}
nftables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForAlphaFeatures: false
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
`;
}

export const KUBEADM_KUBECONFIG_CONF = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://10.250.0.2:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
`;

/** The ConfigMap's data. */
export function kubeadmKubeProxyData(o: KubeProxyConfigOptions = {}): Record<string, string> {
  return { 'config.conf': kubeadmKubeProxyConfig(o), 'kubeconfig.conf': KUBEADM_KUBECONFIG_CONF };
}
