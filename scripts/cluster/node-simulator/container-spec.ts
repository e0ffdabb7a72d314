// How the simulator turns a pod's container into a local process: only the project's own image
// (`rainbow` or `*/rainbow`, any tag) can run here, as `node dist/webhook/src/cli.js …`; the
// container's env is resolved the way kubelet does it (downward API, ConfigMap/Secret refs,
// `$(VAR)` expansion). The process runs inside the pod's sandbox (pod-sandbox.ts), so it listens
// on the pod's own address like any container.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';

export interface RunSpec {
  argv: string[];
  env: Record<string, string>;
}

export type Resolution = { ok: true; spec: RunSpec } | { ok: false; reason: string; message: string };

export interface PodContext {
  pod: V1Pod;
  podIP: string;
  hostIP: string;
  /** node plus the path of the built `rainbow` CLI. */
  rainbow: string[];
  /** Environment every container starts from (the Service links); the container's own env wins. */
  baseEnv?: Record<string, string>;
  /** Reads a key of a ConfigMap or Secret in the pod's namespace; undefined when absent. */
  lookup: (kind: 'ConfigMap' | 'Secret', name: string, key: string) => Promise<string | undefined>;
}

const PROJECT_IMAGE = /^(?:[^@]*\/)?rainbow(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

export function isProjectImage(image: string | undefined): boolean {
  return image !== undefined && PROJECT_IMAGE.test(image);
}

/** Kubernetes `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown references stay. */
export function expand(input: string, vars: Record<string, string>): string {
  return input.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in vars ? vars[name] : m,
  );
}

function fieldValue(pod: V1Pod, fieldPath: string, podIP: string, hostIP: string): string | undefined {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace;
    case 'metadata.uid':
      return meta.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    default:
      return undefined;
  }
}

async function envValue(e: V1EnvVar, ctx: PodContext, vars: Record<string, string>): Promise<string | { error: string }> {
  if (e.value !== undefined) return expand(e.value, vars);
  const from = e.valueFrom;
  if (!from) return '';
  if (from.fieldRef) {
    const v = fieldValue(ctx.pod, from.fieldRef.fieldPath, ctx.podIP, ctx.hostIP);
    return v ?? { error: `env ${e.name}: fieldRef ${from.fieldRef.fieldPath} is not supported by the node simulator` };
  }
  if (from.resourceFieldRef) return '0';
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (ref) {
    const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const v = await ctx.lookup(kind, ref.name ?? '', ref.key);
    if (v === undefined && !ref.optional) return { error: `env ${e.name}: ${kind} ${ref.name} has no key ${ref.key}` };
    return v ?? '';
  }
  return '';
}

export async function resolveContainer(c: V1Container, ctx: PodContext): Promise<Resolution> {
  if (!isProjectImage(c.image)) {
    return {
      ok: false,
      reason: 'ImageNotRunnableHere',
      message: `the local node simulator runs only the project's own image (rainbow or */rainbow, any tag); ${c.image ?? '(no image)'} cannot run here`,
    };
  }
  // $(VAR) sees the Service links too, as kubelet's expansion does; the container's own env wins.
  const vars: Record<string, string> = { ...ctx.baseEnv };
  for (const e of c.env ?? []) {
    const v = await envValue(e, ctx, vars);
    if (typeof v !== 'string') return { ok: false, reason: 'CreateContainerConfigError', message: v.error };
    vars[e.name] = v;
  }
  // The image's entrypoint is the `rainbow` CLI; a command must name it to run here.
  const command = (c.command ?? []).map((s) => expand(s, vars));
  if (command.length > 0 && !/(^|\/)rainbow$/.test(command[0])) {
    return {
      ok: false,
      reason: 'CommandNotRunnableHere',
      message: `the node simulator runs the rainbow CLI only; command ${JSON.stringify(command[0])} cannot run here`,
    };
  }
  const args = [...command.slice(1), ...(c.args ?? []).map((s) => expand(s, vars))];
  return {
    ok: true,
    spec: {
      argv: [...ctx.rainbow, ...args],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', HOSTNAME: ctx.pod.metadata?.name ?? '', ...ctx.baseEnv, ...vars },
    },
  };
}
