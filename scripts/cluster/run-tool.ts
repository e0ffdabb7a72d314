// kubectl and helm from .local-cluster/bin, pointed at the local cluster, with Helm's cache,
// config and data kept under .local-cluster/helm (never the user's home). Used by the demo and
// the e2e tests; never throws on a non-zero exit: the caller reads code, stdout and stderr.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { bin, kubeconfigPath, stateDir } from './paths.js';

const run = promisify(execFile);

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const HELM_ENV = {
  HELM_CACHE_HOME: path.join(stateDir, 'helm', 'cache'),
  HELM_CONFIG_HOME: path.join(stateDir, 'helm', 'config'),
  HELM_DATA_HOME: path.join(stateDir, 'helm', 'data'),
};

export async function runTool(name: 'kubectl' | 'helm', args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  const env = { ...process.env, KUBECONFIG: kubeconfigPath, ...HELM_ENV };
  try {
    const p = run(bin(name), args, { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 });
    if (opts.input !== undefined) p.child.stdin?.end(opts.input);
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}
