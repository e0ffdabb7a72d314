// Registers the simulated Node and keeps it Ready: a status heartbeat and a kube-node-lease Lease,
// the two signals kube-controller-manager's node lifecycle controller watches.
import { CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node, type V1NodeCondition } from '@kubernetes/client-node';

const LEASE_SECONDS = 40;

function conditions(t: Date): V1NodeCondition[] {
  const c = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  return [
    c('Ready', 'True', 'KubeletReady', 'rainbow node simulator is posting ready status'),
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'simulated'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'simulated'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'simulated'),
  ];
}

export async function registerNode(core: CoreV1Api, name: string, kubeletVersion: string, internalIP: string): Promise<void> {
  const capacity = { cpu: '32', memory: '64Gi', pods: '1000', 'ephemeral-storage': '100Gi' };
  const node: V1Node = {
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'rainbow.dev/simulated': 'true' },
    },
    spec: {},
  };
  try {
    await core.createNode({ body: node });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          capacity,
          allocatable: capacity,
          conditions: conditions(new Date()),
          addresses: [
            { type: 'InternalIP', address: internalIP },
            { type: 'Hostname', address: name },
          ],
          nodeInfo: {
            kubeletVersion,
            kubeProxyVersion: kubeletVersion,
            containerRuntimeVersion: 'rainbow-sim://1',
            operatingSystem: 'linux',
            architecture: 'amd64',
            osImage: 'rainbow node simulator',
            kernelVersion: '',
            machineID: '',
            systemUUID: '',
            bootID: '',
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function heartbeat(core: CoreV1Api, coord: CoordinationV1Api, name: string): Promise<void> {
  const t = new Date();
  await core.patchNodeStatus({ name, body: { status: { conditions: conditions(t) } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  // Lease times are MicroTime (RFC 3339 with 6 fractional digits); a JS Date would serialise with 3.
  const renewTime = t.toISOString().replace(/Z$/, '000Z') as unknown as Date;
  const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS, renewTime };
  try {
    await coord.patchNamespacedLease({ name, namespace: 'kube-node-lease', body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await coord.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name, namespace: 'kube-node-lease' }, spec } });
  }
}
