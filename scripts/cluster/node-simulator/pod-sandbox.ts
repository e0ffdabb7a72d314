// A pod's sandbox, as a container runtime makes one: a network namespace with `lo` up, an eth0
// holding the pod's address from the podCIDR, a veth into the node bridge and a default route
// through the bridge; and a mount namespace in which the pod's ServiceAccount token, CA and
// namespace are at /var/run/secrets/kubernetes.io/serviceaccount, where in-cluster clients look.
// A holder process keeps both alive; every container of the pod is started inside them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIDGE } from '../network/plan.js';
import { commOf, isRunning, runCommand, startTicksOf, stopDaemon, type Daemon } from '../processes.js';

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface SandboxNetwork {
  ip: string;
  /** Prefix length of the podCIDR. */
  bits: number;
  gateway: string;
}

/** Host-side veth name: at most 15 bytes, stable for a pod UID. */
export function vethName(podUid: string): string {
  return `veth${createHash('sha256').update(podUid).digest('hex').slice(0, 10)}`;
}

export class PodSandbox {
  private holder?: Daemon;

  constructor(
    readonly podUid: string,
    readonly name: string,
    readonly network: SandboxNetwork,
    /** Folder bind-mounted read-only at SERVICE_ACCOUNT_MOUNT (written by service-account.ts). */
    readonly serviceAccountDir: string,
    /** Keeps the holder on record by PID, so `down` can stop it even if the simulator died. */
    private readonly records: { record: (d: Daemon) => void; forget: (pid: number) => void },
  ) {}

  get pid(): number | undefined {
    return this.holder?.pid;
  }

  /** nsenter arguments that start a command in the pod's namespaces, in `cwd`. */
  enterArgs(cwd: string): string[] {
    if (!this.holder) throw new Error(`pod ${this.name}: its sandbox is not running`);
    return ['nsenter', `--target=${this.holder.pid}`, '--net', '--mount', `--wd=${cwd}`, '--'];
  }

  async start(): Promise<void> {
    mkdirSync(this.serviceAccountDir, { recursive: true, mode: 0o755 });
    // /var/run is usually a link to /run; a tmpfs there hides the node's /run from the pod.
    const runDir = realpathSync('/var/run');
    const setup = [
      `mount -t tmpfs -o mode=0755,size=1m rainbow-pod "$1"`,
      `mkdir -p "$2"`,
      `mount --bind -o ro "$3" "$2"`,
      // The holder only waits; the node simulator and `down` stop it by PID.
      'exec sleep infinity',
    ].join(' && ');
    const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'sandbox', runDir, SERVICE_ACCOUNT_MOUNT, this.serviceAccountDir], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const pid = child.pid;
    if (pid === undefined) throw new Error(`pod ${this.name}: could not start its sandbox (unshare)`);
    child.unref();
    this.holder = { name: `${this.name}/sandbox`, pid, log: '', startTicks: startTicksOf(pid) ?? '' };
    this.records.record(this.holder);
    for (let i = 0; ; i++) {
      if (!isRunning(this.holder)) throw new Error(`pod ${this.name}: its sandbox exited while being set up: ${stderr.trim() || 'no message'}`);
      if (commOf(pid) === 'sleep') break;
      if (i > 200) throw new Error(`pod ${this.name}: its sandbox was not ready within 10 s`);
      await sleep(50);
    }
    child.stderr?.destroy();
    const veth = vethName(this.podUid);
    const { ip: address, bits, gateway } = this.network;
    const where = `for pod ${this.name}`;
    // A sandbox left by a simulator that died still holds this pod's veth: unwire it.
    await runCommand(['ip', 'link', 'delete', veth]).catch(() => undefined);
    await runCommand(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)], { where });
    await runCommand(['ip', '-batch', '-'], { where, input: [`link set ${veth} master ${BRIDGE}`, `link set dev ${veth} type bridge_slave hairpin on`, `link set ${veth} up`].join('\n') + '\n' });
    // The simulator already runs in the cluster's user namespace, if any: entering the pod's network namespace is enough.
    await runCommand(['nsenter', `--target=${pid}`, '--net', '--', 'ip', '-batch', '-'], { where, input: [
      'link set lo up',
      `address add ${address}/${bits} dev eth0`,
      'link set eth0 up',
      `route add default via ${gateway} dev eth0`,
    ].join('\n') + '\n' });
  }

  /**
   * Takes over the holder of a sandbox that a simulator before this one made (it was killed, its
   * pods kept running, as containers outlive a kubelet restart): its namespaces and veth are as
   * they were, nothing is set up again.
   */
  adopt(holder: Daemon): void {
    this.holder = holder;
  }

  /** Stops the holder: the namespaces go with it, and the veth pair with the network namespace. */
  async stop(): Promise<void> {
    if (!this.holder) return;
    await stopDaemon(this.holder, 2_000);
    this.records.forget(this.holder.pid);
  }
}
