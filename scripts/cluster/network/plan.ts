// The local cluster's addresses. Everything here lives inside the cluster's own sealed network
// namespace, so every cluster on a machine uses the same plan; only the host loopback address of
// its forwards (host-address.ts) differs between clusters.

/** The Node's InternalIP: on the node bridge, where the API server listens and NodePorts answer. */
export const NODE_IP = '10.250.0.2';
/** kube-controller-manager hands each Node a podCIDR from here (--cluster-cidr). */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** --node-cidr-mask-size: room for addresses that are not reused while the node runs. */
export const NODE_CIDR_MASK = 20;
/** ClusterIPs (--service-cluster-ip-range); the `kubernetes` Service takes the first. */
export const SERVICE_CIDR = '10.96.0.0/16';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** The node's bridge: pod veths are its ports, the first address of the podCIDR is the pods' gateway. */
export const BRIDGE = 'rainbow0';
/** The API server's port, inside the namespace and on the host address. */
export const API_PORT = 6443;
/** Inside the cluster namespace only, on its own loopback. */
export const ETCD_PORTS = { client: 2379, peer: 2380 };
