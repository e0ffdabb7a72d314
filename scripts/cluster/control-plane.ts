// `scripts/local-cluster up|down|status`: a sealed network namespace (network/namespace.ts) holding
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, the node simulator and
// the portal; on the host only the forwarder, on a loopback address of this cluster's own. All of
// it is tracked by PID in .local-cluster/state.json.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { buildTools, requiredVersion, TOOL_GROUPS } from './build-tools.js';
import { ensurePki, type ClusterPki } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { bin, insideKubeconfigPath, kubeconfigPath, logDir, pkiDir, repoRoot, stateDir, statePath } from './paths.js';
import { isListening, isRunning, startDaemon, stopDaemon, type Daemon } from './processes.js';
import { progress, elapsed } from './progress.js';
import { httpsGet } from './https-get.js';
import { eventually } from './poll.js';
import { podProcessDir, readPodProcesses } from './node-simulator/pod-processes.js';
import { claimHostAddress, releaseHostAddress, transferClaim } from './network/host-address.js';
import { hostNetwork, type HostNetwork } from './network/host-network.js';
import {
  createClusterNamespace,
  ensureNetworkTools,
  enterArgs,
  inspectNetwork,
  namespaceReady,
  sealProblems,
  setupNodeNetwork,
  type ClusterNamespace,
} from './network/namespace.js';
import { API_PORT, CLUSTER_CIDR, ETCD_PORTS, NODE_CIDR_MASK, NODE_IP, SERVICE_CIDR } from './network/plan.js';
import { clusterGet, portalSocketPath } from './network/portal.js';

export const NODE_NAME = 'rainbow-node';

export interface ClusterState {
  /** The API server as the host reaches it: https://<host>:6443. */
  server: string;
  /** The host loopback address of this cluster's forwards (RAINBOW_CLUSTER_HOST). */
  host: string;
  kubernetesVersion: string;
  etcdDataDir: string;
  /** The holder of the cluster's network namespace. */
  namespace: ClusterNamespace;
  /** The host's interfaces, addresses and routes before the cluster started: `down` and the tests compare. */
  hostNetworkBefore: HostNetwork;
  daemons: Daemon[];
  /** Processes started next to the cluster (the demo's webhook): stopped first by `down`, not part of its health. */
  addons?: Daemon[];
  startedAt: string;
}

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

// HTTP/1.1 to the API server: one TCP connection per watch, so an API server restart closes them
// at once and the informers relist within seconds (over HTTP/2 client-go noticed only through its
// ping health check, and acted on nothing for a long while).
const HTTP1_CLIENTS = new Set(['kube-controller-manager', 'kube-scheduler', 'kube-proxy']);
const envOf = (daemon: string): NodeJS.ProcessEnv => (HTTP1_CLIENTS.has(daemon) ? { ...process.env, DISABLE_HTTP2: 'true' } : process.env);

const allRunning = (s: ClusterState) => !!s.namespace && isRunning(s.namespace) && s.daemons.every(isRunning);

/** Waits for a daemon to be ready; stops at once if it exits, and names its log either way. */
function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string, daemon?: Daemon): Promise<boolean> {
  return eventually(what, check, timeoutMs, 200, {
    hint: log ? `see ${log}` : undefined,
    abort: () => (daemon && !isRunning(daemon) ? `${daemon.name} exited while waiting for ${what}; see ${daemon.log}` : undefined),
  });
}

const adminGet = (url: string, pki: ClusterPki) =>
  httpsGet(url, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) });

function writeKubeProxyConfig(file: string): void {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    hostnameOverride: NODE_NAME,
    clientConnection: { kubeconfig: insideKubeconfigPath },
    clusterCIDR: CLUSTER_CIDR,
    nodePortAddresses: [`${NODE_IP}/32`],
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // As rootless Kubernetes does: conntrack sysctls cannot be written from a user namespace, and
    // zero means "leave the kernel's value as it is".
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    oomScoreAdj: 0,
  };
  writeFileSync(file, stringify(config));
}

export async function up(): Promise<ClusterState> {
  const running = readState();
  if (running && allRunning(running)) {
    progress(`local cluster already running (Kubernetes ${running.kubernetesVersion} at ${running.server}); kubeconfig: ${kubeconfigPath}`);
    return running;
  }
  if (running) {
    progress('a previous local cluster is partly running; stopping what is left of it first');
    await down({ quiet: true });
  }
  const started = Date.now();
  const versions = await buildTools();
  ensureNetworkTools();
  mkdirSync(logDir, { recursive: true });
  const log = (n: string) => path.join(logDir, `${n}.log`);
  const hostNetworkBefore = await hostNetwork();
  const self = { pid: process.pid, startTicks: '' };
  const host = await claimHostAddress(stateDir, API_PORT, self, process.env.RAINBOW_CLUSTER_HOST || undefined);
  const pki = await ensurePki(pkiDir, host);
  const etcdDataDir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-etcd-'));
  const server = `https://${host}:${API_PORT}`;
  progress(`creating the cluster's network namespace (sealed: lo, a node bridge and pod veths only); host address ${host}`);
  const namespace = createClusterNamespace(log('network-namespace'));
  const state: ClusterState = {
    server,
    host,
    kubernetesVersion: versions.kubernetes,
    etcdDataDir,
    namespace,
    hostNetworkBefore,
    daemons: [],
    startedAt: new Date().toISOString(),
  };
  const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
  save();
  const inside = (name: string, cmd: string, args: string[]) => {
    const [nsenter, ...enter] = enterArgs(namespace);
    const d = startDaemon(name, nsenter!, [...enter, cmd, ...args], log(name), envOf(name));
    state.daemons.push(d);
    save();
    return d;
  };
  const script = (...p: string[]) => path.join(repoRoot, 'dist', 'scripts', 'cluster', ...p);

  try {
    await waitFor('the network namespace', () => namespaceReady(namespace), 10_000, namespace.log, namespace);
    await setupNodeNetwork(namespace);
    const { links, routes } = await inspectNetwork(namespace);
    const problems = sealProblems(links, routes);
    if (problems.length) throw new Error(`the cluster's network namespace is not sealed: ${problems.join('; ')}`);

    const portalPath = portalSocketPath();
    const portal = inside('portal', process.execPath, [script('network', 'portal-main.js'), `--socket=${portalPath}`]);
    await waitFor('the portal', async () => existsSync(portalPath), 10_000, portal.log, portal);
    writeKubeconfig(kubeconfigPath, server, pki);
    writeKubeconfig(insideKubeconfigPath, `https://${NODE_IP}:${API_PORT}`, pki);
    const forwarder = startDaemon('forwarder', process.execPath, [script('network', 'forwarder-main.js'), `--host=${host}`, `--portal=${portalPath}`, `--kubeconfig=${kubeconfigPath}`], log('forwarder'));
    state.daemons.push(forwarder);
    save();
    transferClaim(host, stateDir, forwarder);

    progress(`starting etcd inside the namespace (data in ${etcdDataDir})`);
    const etcdUrl = `http://127.0.0.1:${ETCD_PORTS.client}`;
    const etcd = inside('etcd', bin('etcd'), [
      '--name=rainbow',
      `--data-dir=${etcdDataDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${ETCD_PORTS.peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ETCD_PORTS.peer}`,
      `--initial-cluster=rainbow=http://127.0.0.1:${ETCD_PORTS.peer}`,
      // A throwaway test store: durability is not worth the fsync latency.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd /health', async () => (await clusterGet(`${etcdUrl}/health`, 2000, portalPath)).status === 200, 30_000, etcd.log, etcd);

    progress(`starting kube-apiserver ${versions.kubernetes} on ${NODE_IP}:${API_PORT}, forwarded to ${server}`);
    const apiserver = inside('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=0.0.0.0',
      `--advertise-address=${NODE_IP}`,
      `--secure-port=${API_PORT}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=0',
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await adminGet(`${server}/readyz`, pki)).status === 200, 90_000, apiserver.log, apiserver);

    progress('starting kube-controller-manager and kube-scheduler');
    const kubeconfigFlags = [`--kubeconfig=${insideKubeconfigPath}`, `--authentication-kubeconfig=${insideKubeconfigPath}`, `--authorization-kubeconfig=${insideKubeconfigPath}`];
    inside('kube-controller-manager', bin('kube-controller-manager'), [
      ...kubeconfigFlags,
      '--bind-address=127.0.0.1',
      '--controllers=*',
      '--allocate-node-cidrs=true',
      `--cluster-cidr=${CLUSTER_CIDR}`,
      `--node-cidr-mask-size=${NODE_CIDR_MASK}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--v=0',
    ]);
    inside('kube-scheduler', bin('kube-scheduler'), [...kubeconfigFlags, '--bind-address=127.0.0.1', '--leader-elect=false', '--v=0']);

    progress(`starting the node simulator (node ${NODE_NAME}: pods in network namespaces of their own on ${CLUSTER_CIDR}) and kube-proxy (nftables)`);
    const simulator = script('node-simulator', 'main.js');
    if (!existsSync(simulator)) throw new Error(`${simulator} is missing: run \`npm run build\` first (scripts/local-cluster does it for you).`);
    const node = inside('node-simulator', process.execPath, [simulator, `--kubeconfig=${insideKubeconfigPath}`, `--node-name=${NODE_NAME}`, `--node-ip=${NODE_IP}`]);
    const kubeProxyConfig = path.join(stateDir, 'kube-proxy.yaml');
    writeKubeProxyConfig(kubeProxyConfig);
    const proxy = inside('kube-proxy', bin('kube-proxy'), [`--config=${kubeProxyConfig}`, '--v=0']);

    await waitFor(
      'the default ServiceAccount',
      async () => (await adminGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, pki)).status === 200,
      60_000,
      log('kube-controller-manager'),
    );
    await waitFor(
      `node ${NODE_NAME} Ready with a podCIDR`,
      async () => {
        const res = await adminGet(`${server}/api/v1/nodes/${NODE_NAME}`, pki);
        if (res.status !== 200) return false;
        const n = JSON.parse(res.body) as { spec?: { podCIDR?: string }; status?: { conditions?: { type: string; status: string }[] } };
        return !!n.spec?.podCIDR && (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      },
      60_000,
      node.log,
      node,
    );
    await waitFor('kube-proxy /healthz', async () => (await clusterGet('http://127.0.0.1:10256/healthz', 2000, portalPath)).status === 200, 60_000, proxy.log, proxy);
    progress(`local cluster up in ${elapsed(started)}: Kubernetes ${versions.kubernetes} at ${server}`);
    progress(`kubeconfig: ${kubeconfigPath}  (kubectl: ${bin('kubectl')}, helm: ${bin('helm')}); NodePorts on ${host}`);
    return state;
  } catch (err) {
    progress(`start failed: ${(err as Error).message}`);
    progress('stopping what was started');
    await down({ quiet: true });
    throw err;
  }
}

export async function down(opts: { quiet?: boolean } = {}): Promise<void> {
  const state = readState();
  const say = (m: string) => !opts.quiet && progress(m);
  if (!state) {
    say('no local cluster is running (no .local-cluster/state.json)');
  } else {
    // Add-ons first, then reverse start order: the node simulator before the API server, so it
    // can stop pod processes while the API still answers.
    for (const d of [...(state.addons ?? []), ...[...state.daemons].reverse()]) {
      const result = await stopDaemon(d, d.name === 'node-simulator' ? 30_000 : 10_000);
      say(`${d.name} (pid ${d.pid}): ${result}`);
    }
  }
  // Pod processes outlive a simulator that crashed; they are recorded by PID, so stop them too.
  for (const p of readPodProcesses()) {
    const result = await stopDaemon(p, 2_000);
    if (result !== 'not-running') say(`pod process ${p.name} (pid ${p.pid}): ${result}`);
  }
  rmSync(podProcessDir, { recursive: true, force: true });
  rmSync(path.join(stateDir, 'pod-ip-next'), { force: true });
  rmSync(path.join(stateDir, 'service-accounts'), { recursive: true, force: true });
  if (state) {
    // The namespace goes with its holder, the last process inside it; its bridge, veths and
    // kube-proxy's nft tables go with the namespace.
    if (state.namespace) say(`network namespace (holder pid ${state.namespace.pid}): ${await stopDaemon(state.namespace, 5_000)}`);
    rmSync(state.etcdDataDir, { recursive: true, force: true });
    rmSync(portalSocketPath(), { force: true });
    const open = state.host && (await isListening(API_PORT, state.host)) ? [`${state.host}:${API_PORT}`] : [];
    if (state.host) releaseHostAddress(state.host, stateDir);
    rmSync(statePath, { force: true });
    rmSync(kubeconfigPath, { force: true });
    rmSync(insideKubeconfigPath, { force: true });
    if (open.length) throw new Error(`after stopping, ${open.join(', ')} still accepts connections; check \`ss -ltnp\``);
    say('local cluster stopped; no process, namespace or forward of ours is left');
  }
}

export async function status(): Promise<boolean> {
  const state = readState();
  if (!state) {
    console.log('local cluster: not running (start it with `scripts/local-cluster up`)');
    return false;
  }
  const all = allRunning(state);
  console.log(`local cluster: ${all ? 'running' : 'DEGRADED'} — Kubernetes ${state.kubernetesVersion} at ${state.server}, since ${state.startedAt}`);
  if (state.namespace) console.log(`  ${'network namespace'.padEnd(24)} pid ${String(state.namespace.pid).padEnd(8)} ${isRunning(state.namespace) ? 'running' : 'NOT RUNNING'}${state.namespace.rootless ? '  (in a user namespace)' : ''}`);
  for (const d of state.daemons) console.log(`  ${d.name.padEnd(24)} pid ${String(d.pid).padEnd(8)} ${isRunning(d) ? 'running' : 'NOT RUNNING'}  log ${d.log}`);
  for (const d of state.addons ?? []) console.log(`  ${d.name.padEnd(24)} pid ${String(d.pid).padEnd(8)} ${isRunning(d) ? 'running' : 'not running'}  log ${d.log}  (add-on)`);
  const pods = readPodProcesses().filter(isRunning);
  console.log(`  pod processes            ${pods.length} running`);
  console.log(`  host address             ${state.host} (API server :${API_PORT} and every NodePort)`);
  console.log(`  kubeconfig               ${kubeconfigPath}`);
  return all;
}

/** Runs a command inside the running cluster's network namespace, attached to this terminal. */
export function execArgs(argv: string[]): string[] {
  const state = readState();
  if (!state?.namespace || !isRunning(state.namespace)) throw new Error('the local cluster is not running; start it with scripts/local-cluster up');
  if (argv.length === 0) throw new Error('usage: scripts/local-cluster exec -- COMMAND [ARGS…]');
  return [...enterArgs(state.namespace), ...argv];
}

/**
 * Starts a process inside the running cluster's network namespace, next to the control plane
 * (e.g. a webhook served from outside the cluster's pods), replacing an earlier add-on of the same
 * name; `down` stops it by PID.
 */
export async function startAddon(name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Daemon> {
  const state = readState();
  if (!state) throw new Error('the local cluster is not running; start it with scripts/local-cluster up');
  const previous = (state.addons ?? []).filter((d) => d.name === name);
  for (const d of previous) await stopDaemon(d, 10_000);
  mkdirSync(logDir, { recursive: true });
  const [nsenter, ...enter] = enterArgs(state.namespace);
  const d = startDaemon(name, nsenter!, [...enter, cmd, ...args], path.join(logDir, `${name}.log`), env ?? process.env);
  state.addons = [...(state.addons ?? []).filter((a) => a.name !== name), d];
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  return d;
}

/**
 * Stops one control-plane daemon (SIGTERM, as an operator's restart would) and starts it again
 * with the same command line — same namespace, same etcd data. For fault tests: an API server
 * restart under running clients. `signal: 'SIGKILL'` makes it a crash instead; for the node
 * simulator that is kubelet's restart: on SIGTERM it stops every pod (a node shutdown), while
 * after a SIGKILL the pods' processes keep running and the new simulator adopts them.
 */
export async function restartDaemon(name: string, downMs = 0, signal: NodeJS.Signals = 'SIGTERM'): Promise<Daemon> {
  const state = readState();
  const d = state?.daemons.find((x) => x.name === name);
  if (!state || !d) throw new Error(`no running local cluster daemon named ${name}`);
  if (!d.cmd || !d.args) throw new Error(`${name} was started by an older scripts/local-cluster without its command line on record: run scripts/local-cluster down, then up`);
  await stopDaemon(d, 10_000, signal);
  if (downMs > 0) await sleep(downMs);
  const fresh = startDaemon(name, d.cmd, d.args, d.log, envOf(name));
  state.daemons = state.daemons.map((x) => (x.name === name ? fresh : x));
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  if (name === 'kube-apiserver') {
    const pki = await ensurePki(pkiDir, state.host);
    await waitFor('kube-apiserver /readyz after restart', async () => (await adminGet(`${state.server}/readyz`, pki)).status === 200, 90_000, fresh.log, fresh);
  }
  return fresh;
}

/** Stops an add-on started by startAddon and forgets it. */
export async function stopAddon(name: string): Promise<void> {
  const state = readState();
  if (!state) return;
  for (const d of (state.addons ?? []).filter((a) => a.name === name)) await stopDaemon(d, 10_000);
  state.addons = (state.addons ?? []).filter((a) => a.name !== name);
  writeFileSync(statePath, JSON.stringify(state, null, 2));
}

export function toolVersions(): Record<string, string> {
  return Object.fromEntries(TOOL_GROUPS.map((g) => [g.module, requiredVersion(g)]));
}
