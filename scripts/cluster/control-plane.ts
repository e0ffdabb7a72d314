// `scripts/local-cluster up|down|status`: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and the node simulator, all on 127.0.0.1, tracked by PID in .local-cluster/state.json.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTools, requiredVersion, TOOL_GROUPS } from './build-tools.js';
import { ensurePki, type ClusterPki } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { bin, kubeconfigPath, logDir, pkiDir, repoRoot, stateDir, statePath } from './paths.js';
import { freePort, isListening, isRunning, startDaemon, stopDaemon, type Daemon } from './processes.js';
import { progress, elapsed } from './progress.js';
import { httpsGet } from './https-get.js';
import { eventually } from './poll.js';
import { podProcessDir, readPodProcesses } from './node-simulator/pod-processes.js';

export const NODE_NAME = 'rainbow-node';

export interface ClusterState {
  server: string;
  kubernetesVersion: string;
  etcdDataDir: string;
  ports: Record<string, number>;
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

/** Waits for a daemon to be ready; stops at once if it exits, and names its log either way. */
function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string, daemon?: Daemon): Promise<boolean> {
  return eventually(what, check, timeoutMs, 200, {
    hint: log ? `see ${log}` : undefined,
    abort: () => (daemon && !isRunning(daemon) ? `${daemon.name} exited while waiting for ${what}; see ${daemon.log}` : undefined),
  });
}

const adminGet = (url: string, pki: ClusterPki) =>
  httpsGet(url, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) });

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

export async function up(): Promise<ClusterState> {
  const running = readState();
  if (running && running.daemons.every(isRunning)) {
    progress(`local cluster already running (Kubernetes ${running.kubernetesVersion} at ${running.server}); kubeconfig: ${kubeconfigPath}`);
    return running;
  }
  if (running) {
    progress('a previous local cluster is partly running; stopping what is left of it first');
    await down({ quiet: true });
  }
  const started = Date.now();
  const versions = await buildTools();
  mkdirSync(logDir, { recursive: true });
  const pki = await ensurePki(pkiDir);
  const ports = {
    etcd: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
  };
  const etcdDataDir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-etcd-'));
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const state: ClusterState = {
    server,
    kubernetesVersion: versions.kubernetes,
    etcdDataDir,
    ports,
    daemons: [],
    startedAt: new Date().toISOString(),
  };
  const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
  const log = (n: string) => path.join(logDir, `${n}.log`);
  const launch = (name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const d = startDaemon(name, cmd, args, log(name), env);
    state.daemons.push(d);
    save();
    return d;
  };

  try {
    progress(`starting etcd on 127.0.0.1:${ports.etcd} (data in ${etcdDataDir})`);
    const etcd = launch('etcd', bin('etcd'), [
      '--name=rainbow',
      `--data-dir=${etcdDataDir}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=rainbow=http://127.0.0.1:${ports.etcdPeer}`,
      // A throwaway test store: durability is not worth the fsync latency.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd /health', () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), 30_000, etcd.log, etcd);

    progress(`starting kube-apiserver ${versions.kubernetes} on ${server}`);
    const apiserver = launch('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // The `kubernetes` Service cannot list 127.0.0.1 as an endpoint (loopback is refused), so no reconciler.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=0',
    ]);
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await adminGet(`${server}/readyz`, pki)).status === 200,
      90_000,
      apiserver.log,
      apiserver,
    );
    writeKubeconfig(kubeconfigPath, server, pki);

    progress('starting kube-controller-manager and kube-scheduler');
    // HTTP/1.1 to the API server: one TCP connection per watch, so an API server restart closes
    // them at once and the informers relist within seconds. Over HTTP/2 client-go shares one
    // connection and noticed the restart only through its ping health check; measured here, the
    // controller manager then acted on nothing for ~95 s after an API server restart.
    const http1 = { ...process.env, DISABLE_HTTP2: 'true' };
    launch('kube-controller-manager', bin('kube-controller-manager'), [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--controllers=*',
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--v=0',
    ], http1);
    launch('kube-scheduler', bin('kube-scheduler'), [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--leader-elect=false',
      '--v=0',
    ], http1);

    progress(`starting the node simulator (node ${NODE_NAME}, pods on 127.0.0.0/8)`);
    const simulator = path.join(repoRoot, 'dist', 'scripts', 'cluster', 'node-simulator', 'main.js');
    if (!existsSync(simulator)) throw new Error(`${simulator} is missing: run \`npm run build\` first (scripts/local-cluster does it for you).`);
    const node = launch('node-simulator', process.execPath, [simulator, `--kubeconfig=${kubeconfigPath}`, `--node-name=${NODE_NAME}`]);

    await waitFor(
      'the default ServiceAccount',
      async () => (await adminGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, pki)).status === 200,
      60_000,
      log('kube-controller-manager'),
    );
    await waitFor(
      `node ${NODE_NAME} Ready`,
      async () => {
        const res = await adminGet(`${server}/api/v1/nodes/${NODE_NAME}`, pki);
        if (res.status !== 200) return false;
        const conds = (JSON.parse(res.body).status?.conditions ?? []) as { type: string; status: string }[];
        return conds.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      60_000,
      node.log,
      node,
    );
    progress(`local cluster up in ${elapsed(started)}: Kubernetes ${versions.kubernetes} at ${server}`);
    progress(`kubeconfig: ${kubeconfigPath}  (kubectl: ${bin('kubectl')}, helm: ${bin('helm')})`);
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
  rmSync(path.join(stateDir, 'service-accounts'), { recursive: true, force: true });
  if (state) {
    rmSync(state.etcdDataDir, { recursive: true, force: true });
    const open: string[] = [];
    for (const [name, port] of Object.entries(state.ports)) if (await isListening(port)) open.push(`${name}:${port}`);
    rmSync(statePath, { force: true });
    rmSync(kubeconfigPath, { force: true });
    if (open.length) throw new Error(`after stopping, these ports of ours are still open: ${open.join(', ')}; check \`ss -ltnp\``);
    say('local cluster stopped; no process or port of ours is left');
  }
}

export async function status(): Promise<boolean> {
  const state = readState();
  if (!state) {
    console.log('local cluster: not running (start it with `scripts/local-cluster up`)');
    return false;
  }
  const all = state.daemons.every(isRunning);
  console.log(`local cluster: ${all ? 'running' : 'DEGRADED'} — Kubernetes ${state.kubernetesVersion} at ${state.server}, since ${state.startedAt}`);
  for (const d of state.daemons) console.log(`  ${d.name.padEnd(24)} pid ${String(d.pid).padEnd(8)} ${isRunning(d) ? 'running' : 'NOT RUNNING'}  log ${d.log}`);
  for (const d of state.addons ?? []) console.log(`  ${d.name.padEnd(24)} pid ${String(d.pid).padEnd(8)} ${isRunning(d) ? 'running' : 'not running'}  log ${d.log}  (add-on)`);
  const pods = readPodProcesses().filter(isRunning);
  console.log(`  pod processes            ${pods.length} running`);
  console.log(`  kubeconfig               ${kubeconfigPath}`);
  return all;
}

/**
 * Starts a process next to the running cluster (e.g. a webhook served from outside it), replacing
 * an earlier add-on of the same name; `down` stops it by PID.
 */
export async function startAddon(name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Daemon> {
  const state = readState();
  if (!state) throw new Error('the local cluster is not running; start it with scripts/local-cluster up');
  const previous = (state.addons ?? []).filter((d) => d.name === name);
  for (const d of previous) await stopDaemon(d, 10_000);
  mkdirSync(logDir, { recursive: true });
  const d = startDaemon(name, cmd, args, path.join(logDir, `${name}.log`), env ?? process.env);
  state.addons = [...(state.addons ?? []).filter((a) => a.name !== name), d];
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  return d;
}

/**
 * Stops one control-plane daemon (SIGTERM, as an operator's restart would) and starts it again
 * with the same command line — same ports, same etcd data. For fault tests: an API server restart
 * under running clients.
 */
export async function restartDaemon(name: string, downMs = 0): Promise<Daemon> {
  const state = readState();
  const d = state?.daemons.find((x) => x.name === name);
  if (!state || !d) throw new Error(`no running local cluster daemon named ${name}`);
  if (!d.cmd || !d.args) throw new Error(`${name} was started by an older scripts/local-cluster without its command line on record: run scripts/local-cluster down, then up`);
  await stopDaemon(d, 10_000);
  if (downMs > 0) await sleep(downMs);
  const fresh = startDaemon(name, d.cmd, d.args, d.log);
  state.daemons = state.daemons.map((x) => (x.name === name ? fresh : x));
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  if (name === 'kube-apiserver') {
    const pki = await ensurePki(pkiDir);
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
