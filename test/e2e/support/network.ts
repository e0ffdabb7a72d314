// How an e2e test reaches the sealed cluster, as a user on the host would: the API server and
// NodePorts on the cluster's host address; pod IPs, ClusterIPs and processes started inside the
// cluster namespace through the portal (what `scripts/local-cluster exec` would reach).
import net from 'node:net';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readState, execArgs } from '../../../scripts/cluster/control-plane.js';
import { clusterGet, clusterHttpsGet, dialCluster } from '../../../scripts/cluster/network/portal.js';
import { readPodProcesses } from '../../../scripts/cluster/node-simulator/pod-processes.js';
import { enterArgs } from '../../../scripts/cluster/network/namespace.js';
import { isRunning } from '../../../scripts/cluster/processes.js';

const run = promisify(execFile);

/** The host loopback address of the running cluster's forwards (RAINBOW_CLUSTER_HOST). */
export function clusterHost(): string {
  const host = readState()?.host;
  if (!host) throw new Error('the local cluster is not running (no host address in .local-cluster/state.json)');
  return host;
}

/** A TCP connection opened from inside the cluster namespace (to a pod IP, a ClusterIP, a port of the node). */
export function connectInside(host: string, port: number): net.Socket {
  return dialCluster(host, port);
}

/** GET over HTTP from inside the cluster namespace. */
export const getInside = clusterGet;

/** GET over HTTPS from inside the cluster namespace, checked against `ca`. */
export const httpsGetInside = clusterHttpsGet;

/** Runs a command inside the cluster namespace (`scripts/local-cluster exec -- …`) and returns its stdout. */
export async function execInside(argv: string[], timeoutMs = 30_000): Promise<string> {
  const [cmd, ...args] = execArgs(argv);
  return (await run(cmd!, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout;
}

/** True while something listens on TCP `port` inside the cluster namespace (`ss -ltn` there). */
export async function listeningInside(port: number): Promise<boolean> {
  return (await execInside(['ss', '-Hltn', `sport = :${port}`])).trim().length > 0;
}

/** The PID of a pod's sandbox holder, from the node simulator's record of pod processes. */
export function podSandboxPid(namespace: string, pod: string): number {
  const rec = readPodProcesses().find((p) => p.name === `${namespace}/${pod}/sandbox` && isRunning(p));
  if (!rec) throw new Error(`no running sandbox for pod ${namespace}/${pod} on the local node`);
  return rec.pid;
}

/**
 * Starts a process inside a pod's network namespace, as `kubectl exec` would put it there (the
 * node simulator has no exec; this is the container runtime's way in).
 */
export function spawnInPod(namespace: string, pod: string, argv: string[]): ChildProcess {
  const state = readState();
  if (!state) throw new Error('the local cluster is not running');
  const [cmd, ...args] = [...enterArgs({ pid: podSandboxPid(namespace, pod), rootless: state.namespace.rootless }), ...argv];
  return spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}
