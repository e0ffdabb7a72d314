// Shared by the benchmarks: where results go, what machine they came from, percentiles.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { up } from '../cluster/control-plane.js';
import { kubeconfigPath, repoRoot } from '../cluster/paths.js';

export const machine = () => `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export interface Percentiles {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** min, p50, p90, p99 and max of `values` (sorted once), rounded to `digits`. */
export function percentiles(values: readonly number[], digits = 1): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(quantile(sorted, q), digits);
  return { min: round(sorted[0]!, digits), p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted[sorted.length - 1]!, digits) };
}

export function writeResult(name: string, result: object): string {
  const dir = path.join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + '\n');
  return path.relative(repoRoot, file);
}

/** The local cluster, up (started if need be), and the API clients a cluster benchmark uses. */
export async function benchCluster() {
  await up();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), admission: kc.makeApiClient(AdmissionregistrationV1Api) };
}
