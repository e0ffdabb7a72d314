// The cluster's sealed network namespace. A holder process (`unshare --net`, with a user namespace
// first when not root, as rootless Kubernetes does) keeps it alive; every daemon of the cluster is
// started inside it with nsenter. It holds only `lo`, the node bridge and pod veths, and no route
// leaves it, so no packet of the cluster can reach the machine's network whatever it is sent to.
import { spawnSync } from 'node:child_process';
import { commOf, isRunning, runCommand, startDaemon, type Daemon } from '../processes.js';
import { ensureCommands, isRoot } from '../debian-packages.js';
import { BRIDGE, NODE_IP, SERVICE_CIDR } from './plan.js';

export interface ClusterNamespace extends Daemon {
  /** True when the namespace sits in a user namespace of its own (not started as root). */
  rootless: boolean;
}

/** The commands the cluster's network needs, and the Debian package of each. */
const REQUIRED: { command: string; pkg: string }[] = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'unshare', pkg: 'util-linux' },
  { command: 'nsenter', pkg: 'util-linux' },
  { command: 'nft', pkg: 'nftables' },
  { command: 'conntrack', pkg: 'conntrack' },
];

/** Installs missing packages when root (Debian), else fails naming them. */
export function ensureNetworkTools(): void {
  ensureCommands(REQUIRED, "the local cluster's network");
}

export interface UsernsProbe {
  status: number | null;
  stderr?: string;
  error?: Error;
}

/** What `unshare --user --map-root-user --net true` answered: can this user make namespaces? */
const probeUserNamespaces = (): UsernsProbe => spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true'], { encoding: 'utf8' });

/**
 * The unshare flags that make a namespace this user may own: as root a network namespace, else a
 * user namespace first. Without either, one error that says what is missing and how to enable it.
 */
export function unshareFlags(root: boolean, probe: () => UsernsProbe = probeUserNamespaces): { flags: string[]; rootless: boolean } {
  if (root) return { flags: ['--net'], rootless: false };
  const answer = probe();
  if (answer.status !== 0) {
    throw new Error(
      'the local cluster runs in network namespaces of its own, which needs root or unprivileged user namespaces, and neither is available here ' +
        `(unshare --user --net said: ${(answer.stderr || answer.error?.message || `exit ${answer.status}`).trim()}). ` +
        'Run it as root, or enable user namespaces: sysctl -w user.max_user_namespaces=28633, on Debian and Ubuntu kernels also ' +
        'kernel.unprivileged_userns_clone=1, and on Ubuntu 23.10 or newer kernel.apparmor_restrict_unprivileged_userns=0.',
    );
  }
  return { flags: ['--user', '--map-root-user', '--net'], rootless: true };
}

/** Starts the holder; the namespace lives as long as it (and anything started inside) does. */
export function createClusterNamespace(log: string): ClusterNamespace {
  const { flags, rootless } = unshareFlags(isRoot());
  // The holder only waits; `down` stops it by PID.
  const d = startDaemon('network-namespace', 'unshare', [...flags, '--', 'sleep', 'infinity'], log);
  return { ...d, rootless };
}

/**
 * nsenter arguments that run a command in the network namespace of `target` (the cluster's holder,
 * or a pod's sandbox inside it), as root there: in a user namespace, its root; credentials are
 * kept because a namespace made with --map-root-user denies setgroups.
 */
export function enterArgs(target: { pid: number; rootless: boolean }): string[] {
  return ['nsenter', `--target=${target.pid}`, ...(target.rootless ? ['--user', '--preserve-credentials'] : []), '--net', '--'];
}

/** Runs a command inside the namespace; rejects with its stderr on a non-zero exit. */
export function runInside(ns: Pick<ClusterNamespace, 'pid' | 'rootless'>, argv: string[], input?: string): Promise<string> {
  return runCommand([...enterArgs(ns), ...argv], { input, where: "inside the cluster's network namespace" });
}

/** True once the holder has entered its new namespace (unshare has exec'd sleep). */
export async function namespaceReady(ns: ClusterNamespace): Promise<boolean> {
  return isRunning(ns) && commOf(ns.pid) === 'sleep';
}

/**
 * The node's side of the network: `lo` up, the bridge holding the Node's address, IP forwarding,
 * and ClusterIPs routed to the bridge (kube-proxy rewrites them before they would go anywhere).
 */
export async function setupNodeNetwork(ns: ClusterNamespace): Promise<void> {
  await runInside(ns, ['ip', '-batch', '-'], [
    'link set lo up',
    `link add ${BRIDGE} type bridge`,
    `address add ${NODE_IP}/32 dev ${BRIDGE}`,
    `link set ${BRIDGE} up`,
    `route add ${SERVICE_CIDR} dev ${BRIDGE}`,
  ].join('\n') + '\n');
  await runInside(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

export interface LinkInfo {
  ifname: string;
  link_type?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
  master?: string;
}

export interface RouteInfo {
  dst: string;
  dev?: string;
  gateway?: string;
  type?: string;
  table?: string;
  nexthops?: { gateway?: string; dev?: string }[];
}

export async function inspectNetwork(ns: ClusterNamespace): Promise<{ links: LinkInfo[]; routes: RouteInfo[] }> {
  const links = JSON.parse(await runInside(ns, ['ip', '-details', '-json', 'link', 'show'])) as LinkInfo[];
  const routes = JSON.parse(await runInside(ns, ['ip', '-json', 'route', 'show', 'table', 'all'])) as RouteInfo[];
  return { links, routes };
}

/**
 * What breaks the seal, if anything: an interface other than `lo`, the bridge and veths enslaved
 * to it, or a route through anything else or through a gateway. Empty means sealed.
 */
export function sealProblems(links: readonly LinkInfo[], routes: readonly RouteInfo[]): string[] {
  const problems: string[] = [];
  const isPodVeth = (l: LinkInfo) => l.linkinfo?.info_kind === 'veth' && l.master === BRIDGE;
  const isOwn = (l: LinkInfo) => (l.ifname === 'lo' && l.link_type === 'loopback') || (l.ifname === BRIDGE && l.linkinfo?.info_kind === 'bridge') || isPodVeth(l);
  const allowed = new Set(links.filter(isOwn).map((l) => l.ifname));
  for (const l of links) {
    if (!allowed.has(l.ifname)) problems.push(`interface ${l.ifname} (${l.linkinfo?.info_kind ?? l.link_type ?? 'unknown kind'}${l.master ? `, on ${l.master}` : ''}) is neither lo, ${BRIDGE} nor a pod veth on it`);
  }
  for (const r of routes) {
    if (r.nexthops?.length) problems.push(`route ${r.dst} has next hops (${r.nexthops.map((h) => h.gateway ?? h.dev).join(', ')})`);
    else if (r.gateway) problems.push(`route ${r.dst} goes through a gateway (${r.gateway})`);
    else if (r.dev && !allowed.has(r.dev)) problems.push(`route ${r.dst} leaves through ${r.dev}, which is not one of the cluster's own interfaces`);
    else if (r.dst === 'default' && r.type !== 'unreachable' && r.type !== 'blackhole' && r.type !== 'prohibit') problems.push(`a default route (${r.type ?? 'unicast'} via ${r.dev ?? '?'})`);
  }
  return problems;
}
