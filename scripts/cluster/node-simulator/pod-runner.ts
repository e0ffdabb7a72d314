// Plays kubelet for one pod: makes its sandbox (network and mount namespaces, pod-sandbox.ts), runs
// its containers inside it, sidecars (init containers with restartPolicy Always) first, probes
// them, restarts crashed containers with back-off, reports status, and on deletion stops them
// within the grace period, then the sandbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { resolveContainer, type PodContext, type RunSpec } from './container-spec.js';
import { probeOnce } from './probes.js';
import { recordPodProcess, forgetPodProcess } from './pod-processes.js';
import { isRunning, type Daemon } from '../processes.js';
import type { PodSandbox } from './pod-sandbox.js';

export interface PodRunnerDeps {
  rainbow: string[];
  hostIP: string;
  cwd: string;
  logDir: string;
  lookup: PodContext['lookup'];
  /** Writes what the pod's sandbox mounts (its ServiceAccount) and returns the environment of every container (Service links). */
  podEnv: (pod: V1Pod) => Promise<Record<string, string>>;
  writeStatus: (pod: V1Pod, status: V1PodStatus) => Promise<void>;
  log: (message: string) => void;
  /** Base restart back-off in ms (kubelet uses 10 s; the local cluster is quicker). */
  backoffMs?: number;
}

type Kind = 'sidecar' | 'init' | 'main';

/** A container's process: one this simulator spawned, or one a simulator before it did (adopted). */
type ContainerProcess = Pick<ChildProcess, 'pid' | 'kill'>;

class ContainerRun {
  proc?: ContainerProcess;
  spec?: RunSpec;
  restartCount = 0;
  state: V1ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: V1ContainerState = {};
  ready = false;
  started = false;
  /** True once the process ran to exit 0 (regular init containers). */
  completed = false;
  probeTimers: NodeJS.Timeout[] = [];
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
  constructor(
    readonly c: V1Container,
    readonly kind: Kind,
  ) {}
}

const now = () => new Date();

export class PodRunner {
  private readonly runs: ContainerRun[];
  private terminating = false;
  private stopped = false;
  private startTime = now();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private unrunnable = false;

  constructor(
    private pod: V1Pod,
    readonly sandbox: PodSandbox,
    private readonly deps: PodRunnerDeps,
  ) {
    const spec = pod.spec!;
    this.runs = [
      ...(spec.initContainers ?? []).map((c) => new ContainerRun(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init')),
      ...spec.containers.map((c) => new ContainerRun(c, 'main')),
    ];
  }

  get ip(): string {
    return this.sandbox.network.ip;
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  update(pod: V1Pod): void {
    this.pod = pod;
  }

  /**
   * Resolves every container first: one that cannot run here leaves the pod Pending with its
   * reason. Like kubelet, a configuration that cannot be read yet (the API server unreachable for
   * the ServiceAccount token, a ConfigMap not created yet: CreateContainerConfigError) is retried
   * with back-off; an image or command that cannot run here never will.
   */
  async start(): Promise<void> {
    try {
      await this.sandbox.start();
    } catch (err) {
      for (const run of this.runs) run.state = { waiting: { reason: 'CreatePodSandboxError', message: (err as Error).message } };
      this.unrunnable = true;
      this.flush();
      await this.sandbox.stop();
      throw err;
    }
    // Deleted while its sandbox was being made: the stop found no holder yet, so this one stops it.
    if (this.stopped) {
      await this.sandbox.stop();
      return;
    }
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.resolve();
      this.flush();
      if (outcome === 'ready') break;
      if (outcome === 'never' || this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** attempt, 10_000)));
      if (this.stopped) return;
    }
    for (const run of this.runs.filter((r) => r.kind !== 'main')) {
      if (this.stopped) return;
      if (run.kind === 'sidecar') {
        this.spawn(run);
        await this.until(() => run.started || this.stopped);
      } else {
        this.spawn(run);
        await this.until(() => run.completed || this.stopped);
      }
    }
    for (const run of this.runs.filter((r) => r.kind === 'main')) this.spawn(run);
  }

  private async resolve(): Promise<'ready' | 'retry' | 'never'> {
    let baseEnv: Record<string, string>;
    try {
      baseEnv = await this.deps.podEnv(this.pod);
    } catch (err) {
      for (const run of this.runs) run.state = { waiting: { reason: 'CreateContainerConfigError', message: `service account token: ${(err as Error).message}` } };
      this.unrunnable = true;
      this.deps.log(`${this.key}: service account token: ${(err as Error).message}; retrying`);
      return 'retry';
    }
    const ctx: PodContext = { pod: this.pod, podIP: this.ip, hostIP: this.deps.hostIP, rainbow: this.deps.rainbow, lookup: this.deps.lookup, baseEnv };
    let outcome: 'ready' | 'retry' | 'never' = 'ready';
    for (const run of this.runs) {
      const r = await resolveContainer(run.c, ctx);
      if (r.ok) {
        run.spec = r.spec;
        run.state = { waiting: { reason: 'ContainerCreating' } };
        continue;
      }
      run.state = { waiting: { reason: r.reason, message: r.message } };
      this.deps.log(`${this.key}: container ${run.c.name}: ${r.reason}: ${r.message}`);
      if (r.reason !== 'CreateContainerConfigError') outcome = 'never';
      else if (outcome === 'ready') outcome = 'retry';
    }
    this.unrunnable = outcome !== 'ready';
    return outcome;
  }

  private until(cond: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const tick = () => (cond() ? resolve() : setTimeout(tick, 50));
      tick();
    });
  }

  private logFile(run: ContainerRun): string {
    const m = this.pod.metadata!;
    const dir = path.join(this.deps.logDir, `${m.namespace}_${m.name}_${m.uid?.slice(0, 8)}`);
    mkdirSync(dir, { recursive: true });
    return path.join(dir, `${run.c.name}.log`);
  }

  private spawn(run: ContainerRun): void {
    if (this.stopped || this.terminating || !run.spec) return;
    const file = this.logFile(run);
    const fd = openSync(file, 'a');
    let proc: ChildProcess;
    try {
      const [cmd, ...args] = [...this.sandbox.enterArgs(this.deps.cwd), ...run.spec.argv];
      proc = spawn(cmd!, args, { cwd: this.deps.cwd, env: run.spec.env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    run.proc = proc;
    const startedAt = now();
    const pid = proc.pid;
    if (pid !== undefined) recordPodProcess({ name: `${this.key}/${run.c.name}`, pid, log: file, startTicks: '' });
    run.state = { running: { startedAt } };
    run.ready = false;
    run.started = !run.c.startupProbe;
    run.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitedWith(run, pid, startedAt, code, signal);
        resolve();
      });
    });
    proc.once('error', (err) => this.deps.log(`${this.key}: container ${run.c.name} could not start: ${err.message}`));
    this.deps.log(`${this.key}: started container ${run.c.name} (pid ${pid}) on ${this.ip}: ${run.spec.argv.slice(1).join(' ')}`);
    this.startProbes(run);
    this.flush();
  }

  private exitedWith(run: ContainerRun, pid: number | undefined, startedAt: Date, code: number | null, signal: NodeJS.Signals | null): void {
    if (pid !== undefined) forgetPodProcess(pid);
    this.clearProbes(run);
    run.ready = false;
    run.proc = undefined;
    const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 143);
    run.state = {
      terminated: {
        exitCode,
        signal: signal ? (({ SIGTERM: 15, SIGKILL: 9 }) as Record<string, number>)[signal] : undefined,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt,
        finishedAt: now(),
      },
    };
    if (run.kind === 'init' && exitCode === 0) run.completed = true;
    this.deps.log(`${this.key}: container ${run.c.name} (pid ${pid}) exited with ${signal ?? code ?? 'an unknown status (adopted, not a child of this simulator)'}`);
    this.afterExit(run, exitCode);
    this.flush();
  }

  /**
   * Takes over a pod whose sandbox and containers a simulator before this one started (kubelet's
   * restart: containers keep running). `running` holds the container processes on record that
   * still run, by container name. Each keeps its start time, restart count and readiness from
   * the pod's status; its probes start again, and its end is noticed by polling its PID (it is
   * not this process's child). A container that is not running is started as after a crash.
   */
  async adopt(running: Map<string, Daemon>): Promise<void> {
    // The processes are attached at once (before the first await), so that a deletion arriving
    // meanwhile stops them; the specs (for later restarts) are resolved after.
    const adopted: Array<{ run: ContainerRun; startedAt: Date }> = [];
    const before = [...(this.pod.status?.initContainerStatuses ?? []), ...(this.pod.status?.containerStatuses ?? [])];
    for (const run of this.runs) {
      const st = before.find((x) => x.name === run.c.name);
      run.restartCount = st?.restartCount ?? 0;
      if (st?.lastState) run.lastState = st.lastState;
      const rec = running.get(run.c.name);
      if (!rec) {
        if (run.kind === 'init' && st?.state?.terminated?.exitCode === 0) {
          run.completed = true;
          run.state = st.state;
        }
        continue;
      }
      const pid = rec.pid;
      const startedAt = st?.state?.running?.startedAt ? new Date(st.state.running.startedAt as unknown as string) : now();
      run.proc = { pid, kill: (sig?: NodeJS.Signals | number) => process.kill(pid, sig) };
      run.state = { running: { startedAt } };
      run.started = st?.started ?? true;
      run.ready = st?.ready ?? false;
      run.exited = new Promise((resolve) => {
        const poll = setInterval(() => {
          if (isRunning(rec)) return;
          clearInterval(poll);
          this.exitedWith(run, pid, startedAt, null, null);
          resolve();
        }, 250);
      });
      this.deps.log(`${this.key}: adopted container ${run.c.name} (pid ${pid}) on ${this.ip}`);
      this.startProbes(run);
      adopted.push({ run, startedAt });
    }
    const outcome = await this.resolve();
    // resolve() marks every container it could resolve as being created: the adopted ones run.
    for (const { run, startedAt } of adopted) if (run.proc) run.state = { running: { startedAt } };
    if (outcome === 'ready') {
      for (const run of this.runs.filter((r) => r.kind === 'sidecar' && !r.proc)) this.spawn(run);
      for (const run of this.runs.filter((r) => r.kind === 'main' && !r.proc)) this.spawn(run);
    }
    this.flush();
  }

  private afterExit(run: ContainerRun, exitCode: number): void {
    if (this.terminating || this.stopped) return;
    const policy = run.kind === 'sidecar' ? 'Always' : run.kind === 'init' ? (this.pod.spec?.restartPolicy === 'Never' ? 'Never' : 'OnFailure') : this.pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return;
    const delay = Math.min((this.deps.backoffMs ?? 1000) * 2 ** Math.min(run.restartCount, 5), 30_000);
    run.lastState = run.state;
    run.restartCount += 1;
    run.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container ${run.c.name}` } };
    run.restartTimer = setTimeout(() => this.spawn(run), delay);
  }

  private startProbes(run: ContainerRun): void {
    const c = run.c;
    const loop = (probe: V1Probe, onResult: (ok: boolean, message: string) => void, active: () => boolean) => {
      const period = Math.max(probe.periodSeconds ?? 10, 1) * 1000;
      let successes = 0;
      let failures = 0;
      const tick = async () => {
        if (!run.proc || this.terminating) return;
        if (active()) {
          const r = await probeOnce(probe, c, this.ip);
          if (r.ok) {
            successes += 1;
            failures = 0;
          } else {
            failures += 1;
            successes = 0;
          }
          if (r.ok && successes >= (probe.successThreshold ?? 1)) onResult(true, r.message);
          if (!r.ok && failures >= (probe.failureThreshold ?? 3)) onResult(false, r.message);
        }
        if (run.proc) run.probeTimers.push(setTimeout(tick, period));
      };
      run.probeTimers.push(setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000));
    };
    if (c.startupProbe) {
      loop(c.startupProbe, (ok, message) => {
        if (ok && !run.started) {
          run.started = true;
          this.flush();
        } else if (!ok && !run.started) {
          this.deps.log(`${this.key}: startup probe of ${c.name} failed: ${message}; restarting it`);
          run.proc?.kill('SIGTERM');
        }
      }, () => !run.started);
    }
    if (c.readinessProbe) {
      loop(c.readinessProbe, (ok) => {
        if (run.ready !== ok) {
          run.ready = ok;
          this.flush();
        }
      }, () => run.started);
    } else if (run.kind !== 'init') {
      // No readiness probe: ready as soon as it has started (kubelet's rule).
      const mark = () => {
        if (!run.proc) return;
        if (run.started) {
          run.ready = true;
          this.flush();
        } else run.probeTimers.push(setTimeout(mark, 100));
      };
      mark();
    }
    if (c.livenessProbe) {
      loop(c.livenessProbe, (ok, message) => {
        if (!ok) {
          this.deps.log(`${this.key}: liveness probe of ${c.name} failed: ${message}; restarting it`);
          run.proc?.kill('SIGTERM');
        }
      }, () => run.started);
    }
  }

  private clearProbes(run: ContainerRun): void {
    for (const t of run.probeTimers) clearTimeout(t);
    run.probeTimers = [];
  }

  /** kubelet's order: main containers get SIGTERM first, sidecars after they exit; SIGKILL at the deadline. */
  async terminate(graceSeconds: number): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    const deadline = Date.now() + graceSeconds * 1000;
    for (const run of this.runs) {
      clearTimeout(run.restartTimer);
      this.clearProbes(run);
      run.ready = false;
    }
    this.flush();
    const stopGroup = async (runs: ContainerRun[]) => {
      const live = runs.filter((r) => r.proc);
      for (const r of live) signal(r.proc!, 'SIGTERM');
      const remaining = Math.max(deadline - Date.now(), 0);
      await Promise.race([Promise.all(live.map((r) => r.exited)), new Promise((res) => setTimeout(res, remaining))]);
    };
    await stopGroup(this.runs.filter((r) => r.kind === 'main'));
    await stopGroup(this.runs.filter((r) => r.kind !== 'main').reverse());
    const left = this.runs.filter((r) => r.proc);
    for (const r of left) {
      this.deps.log(`${this.key}: container ${r.c.name} outlived the ${graceSeconds}s grace period; SIGKILL`);
      signal(r.proc!, 'SIGKILL');
    }
    await Promise.all(left.map((r) => r.exited));
    this.stopped = true;
    await this.sandbox.stop();
    await this.writing;
  }

  /** Pod already gone from the API (force-deleted) or the simulator is stopping: no grace. */
  async kill(graceMs = 0): Promise<void> {
    this.stopped = true;
    this.terminating = true;
    for (const run of this.runs) {
      clearTimeout(run.restartTimer);
      this.clearProbes(run);
    }
    const live = this.runs.filter((r) => r.proc);
    for (const r of live) signal(r.proc!, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    if (graceMs > 0) {
      await Promise.race([Promise.all(live.map((r) => r.exited)), new Promise((res) => setTimeout(res, graceMs))]);
      for (const r of live) if (r.proc) signal(r.proc, 'SIGKILL');
    }
    await Promise.all(live.map((r) => r.exited));
    await this.sandbox.stop();
  }

  pids(): number[] {
    return this.runs.flatMap((r) => (r.proc?.pid !== undefined && isRunning({ pid: r.proc.pid, startTicks: '' }) ? [r.proc.pid] : []));
  }

  /** Coalesces status writes: one in flight, at most one queued. */
  private flush(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      await new Promise((r) => setTimeout(r, 20));
      this.dirty = false;
      try {
        await this.deps.writeStatus(this.pod, this.status());
      } catch (err) {
        // Like kubelet's status manager, keep trying until the API server has the pod's state
        // (e.g. it was restarting when a container became ready); a pod that is gone is done.
        const gone = (err as { code?: number }).code === 404;
        this.deps.log(`${this.key}: status update failed: ${(err as Error).message}${gone ? '' : '; retrying in 1 s'}`);
        if (!gone && !this.stopped) setTimeout(() => this.flush(), 1000).unref();
      }
    });
  }

  status(): V1PodStatus {
    const statusOf = (r: ContainerRun): V1ContainerStatus => ({
      name: r.c.name,
      image: r.c.image ?? '',
      imageID: `rainbow-local://${r.c.image}`,
      containerID: r.proc?.pid !== undefined ? `rainbow-sim://${r.proc.pid}` : undefined,
      ready: r.ready,
      started: r.kind === 'init' ? false : r.started && !!r.proc,
      restartCount: r.restartCount,
      state: r.state,
      lastState: r.lastState,
    });
    const mains = this.runs.filter((r) => r.kind === 'main');
    const inits = this.runs.filter((r) => r.kind !== 'main');
    const initialized = !this.unrunnable && inits.every((r) => (r.kind === 'init' ? r.completed : r.started && !!r.proc));
    const containersReady = initialized && mains.every((r) => r.ready) && inits.filter((r) => r.kind === 'sidecar').every((r) => r.ready);
    const anyStarted = mains.some((r) => r.proc || r.state.terminated || r.restartCount > 0);
    const allDone = mains.every((r) => r.state.terminated && !r.restartTimer);
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    let phase = 'Pending';
    if (anyStarted) phase = 'Running';
    if (anyStarted && allDone && policy !== 'Always' && !mains.some((r) => r.proc)) {
      phase = mains.every((r) => r.state.terminated?.exitCode === 0) ? 'Succeeded' : policy === 'Never' ? 'Failed' : 'Running';
    }
    const t = now();
    const cond = (type: string, ok: boolean, reason?: string): V1PodCondition => {
      const prev = this.pod.status?.conditions?.find((c) => c.type === type);
      const status = ok ? 'True' : 'False';
      return { type, status, reason: ok ? undefined : reason, lastProbeTime: undefined, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : t };
    };
    const scheduled = this.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return {
      phase,
      hostIP: this.deps.hostIP,
      hostIPs: [{ ip: this.deps.hostIP }],
      podIP: this.ip,
      podIPs: [{ ip: this.ip }],
      startTime: this.pod.status?.startTime ?? this.startTime,
      qosClass: this.pod.status?.qosClass,
      conditions: [
        cond('PodReadyToStartContainers', true),
        cond('Initialized', initialized, 'ContainersNotInitialized'),
        cond('Ready', containersReady, 'ContainersNotReady'),
        cond('ContainersReady', containersReady, 'ContainersNotReady'),
        ...(scheduled ? [scheduled] : []),
      ],
      initContainerStatuses: inits.map(statusOf),
      containerStatuses: mains.map(statusOf),
    };
  }
}

function signal(proc: ContainerProcess, sig: NodeJS.Signals): void {
  try {
    // The container runs in its own process group (detached), so its children get the signal too.
    process.kill(-proc.pid!, sig);
  } catch {
    proc.kill(sig);
  }
}
