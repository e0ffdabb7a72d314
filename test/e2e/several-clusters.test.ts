// Two local clusters on one machine, each in its own sealed namespace with its own host address:
// both serve the same NodePort number, each its own pods. Then `down` of the second one leaves no
// process, namespace, forward, claim or host change behind.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ClusterState } from '../../scripts/cluster/control-plane.js';
import { readState } from '../../scripts/cluster/control-plane.js';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { hostNetwork } from '../../scripts/cluster/network/host-network.js';
import { isListening, isRunning } from '../../scripts/cluster/processes.js';
import { clients, eventually, otherClusterEnv, testNamespace } from './support/cluster.js';
import { appService, colorDeployment } from '../../scripts/cluster/app-objects.js';

const run = promisify(execFile);
const cli = path.join(repoRoot, 'dist', 'scripts', 'cluster', 'main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-second-cluster-'));
const env = otherClusterEnv(dir);
const NODE_PORT = 31977;
let second: ClusterState | undefined;
let ns: Awaited<ReturnType<typeof testNamespace>>;

const localCluster = (cmd: string) => run(process.execPath, [cli, cmd], { env, encoding: 'utf8', timeout: 240_000 });

function secondClients() {
  const kc = new KubeConfig();
  kc.loadFromFile(path.join(dir, 'kubeconfig'));
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

async function deployColor(c: { core: CoreV1Api; apps: AppsV1Api }, namespace: string, color: string): Promise<void> {
  await c.apps.createNamespacedDeployment({ namespace, body: colorDeployment('twin', color) });
  const svc = appService('twin', color);
  svc.spec!.ports = [{ name: 'http', port: 8080, targetPort: 'http', nodePort: NODE_PORT }];
  await c.core.createNamespacedService({ namespace, body: svc });
}

/** The color that answers GET / on host:NODE_PORT (its X-Rainbow-Color header). */
async function colorAt(host: string): Promise<string | undefined> {
  const res = await fetch(`http://${host}:${NODE_PORT}/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.headers.get('x-rainbow-color') ?? undefined;
}

/** PIDs of every process in the network namespace `inode` (net:[N]). */
function processesIn(inode: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      return readlinkSync(`/proc/${d}/ns/net`) === inode ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  ns = await testNamespace('twins');
});

afterAll(async () => {
  if (second && existsSync(path.join(dir, 'state.json'))) await localCluster('down').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  await ns?.remove();
});

test('a second cluster starts beside the first, on its own host address', async () => {
  await localCluster('up');
  second = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as ClusterState;
  const first = readState()!;
  expect(second.host).not.toBe(first.host);
  expect(second.host).toMatch(/^127\.0\.0\.\d+$/);
  expect(readlinkSync(`/proc/${second.namespace.pid}/ns/net`)).not.toBe(readlinkSync(`/proc/${first.namespace.pid}/ns/net`));
  const { stdout } = await run(process.execPath, [cli, 'env'], { env, encoding: 'utf8' });
  expect(stdout).toContain(`export RAINBOW_CLUSTER_HOST=${second.host}`);
});

test('both clusters serve the same NodePort number, each on its own host address with its own pods', async () => {
  await deployColor(clients(), ns.name, 'aaaaaa');
  const c2 = secondClients();
  await c2.core.createNamespace({ body: { metadata: { name: 'twins' } } });
  await deployColor(c2, 'twins', 'bbbbbb');
  const first = readState()!;
  expect(await eventually('cluster 1 answering on its NodePort', () => colorAt(first.host), 90_000, 250)).toBe('aaaaaa');
  expect(await eventually('cluster 2 answering on its NodePort', () => colorAt(second!.host), 90_000, 250)).toBe('bbbbbb');
  // Nothing answers that port on an address neither cluster holds.
  expect(await isListening(NODE_PORT, '127.0.0.1')).toBe(false);
});

test('down leaves no process, namespace, forward, claim or change to the host network behind', async () => {
  const s = second!;
  const inode = readlinkSync(`/proc/${s.namespace.pid}/ns/net`);
  // The pods' sandboxes and containers are recorded by PID; they run in namespaces of their own.
  const podProcesses = readdirSync(path.join(dir, 'pod-processes')).map(Number);
  expect(podProcesses.length).toBeGreaterThanOrEqual(3); // sandbox, reporter, app
  const pids = [...s.daemons.map((d) => d.pid), s.namespace.pid, ...podProcesses];
  expect(processesIn(inode)).toEqual(expect.arrayContaining([s.namespace.pid, s.daemons.find((d) => d.name === 'kube-apiserver')!.pid]));
  await localCluster('down');
  expect(pids.filter((pid) => isRunning({ pid, startTicks: '' }))).toEqual([]);
  await eventually('no process left in the namespace', async () => processesIn(inode).length === 0, 10_000, 100);
  expect(await isListening(6443, s.host)).toBe(false);
  expect(await isListening(NODE_PORT, s.host)).toBe(false);
  expect(existsSync(path.join(os.tmpdir(), 'rainbow-local-clusters', s.host))).toBe(false);
  expect(existsSync(path.join(dir, 'state.json'))).toBe(false);
  expect(await hostNetwork()).toEqual(s.hostNetworkBefore);
  // The first cluster is untouched.
  expect(await eventually('cluster 1 still answering', () => colorAt(readState()!.host), 10_000, 250)).toBe('aaaaaa');
  second = undefined;
});
