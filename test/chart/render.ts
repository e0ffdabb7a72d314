// Renders the charts in chart/ with `helm template` (the helm binary the local cluster builds) and
// parses the output into objects, so that the chart tests assert on what Kubernetes would get.
// No cluster is contacted: `lookup` finds nothing, as on a first install.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

import { bin, repoRoot } from '../../scripts/cluster/paths.js';

/** The helm binary: RAINBOW_HELM, else the one `scripts/local-cluster build` puts in .local-cluster/bin. */
export const HELM = process.env.RAINBOW_HELM ?? bin('helm');

/** Helm's cache, config and data go here, never to the user's home. */
const HELM_HOME = path.join(os.tmpdir(), 'rainbow-helm-chart-tests');

export type ChartName = 'rainbow-app' | 'rainbow-system';

export function chartDir(chart: ChartName): string {
  return path.join(repoRoot, 'chart', chart);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values, passed as a values file (-f). */
  values?: Record<string, unknown>;
  /** --set key=value pairs, for what only --set does (e.g. a color of digits arrives as a number). */
  set?: Record<string, string | number | boolean>;
  /** More helm arguments. */
  args?: string[];
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class HelmError extends Error {
  constructor(
    readonly args: string[],
    readonly result: HelmResult,
  ) {
    super(`helm ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'HelmError';
  }
}

function helmEnv(): NodeJS.ProcessEnv {
  const dirs = { HELM_CACHE_HOME: 'cache', HELM_CONFIG_HOME: 'config', HELM_DATA_HOME: 'data' } as const;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: HELM_HOME, KUBECONFIG: path.join(HELM_HOME, 'no-kubeconfig') };
  for (const [name, dir] of Object.entries(dirs)) {
    env[name] = path.join(HELM_HOME, dir);
    mkdirSync(env[name]!, { recursive: true });
  }
  return env;
}

/** Run helm; resolves with its exit code and output whatever the code. */
export function helm(args: string[]): Promise<HelmResult> {
  if (!existsSync(HELM)) {
    return Promise.reject(new Error(`helm not found at ${HELM}: run scripts/local-cluster build first (or set RAINBOW_HELM to a helm binary)`));
  }
  return new Promise((resolve, reject) => {
    execFile(HELM, args, { env: helmEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, stdout, stderr });
    });
  });
}

function templateArgs(chart: ChartName, opts: RenderOptions, dir: string): string[] {
  const args = ['template', opts.release ?? (chart === 'rainbow-app' ? 'web' : 'rainbow'), chartDir(chart)];
  args.push('--namespace', opts.namespace ?? (chart === 'rainbow-app' ? 'shop' : 'rainbow-system'));
  if (opts.values) {
    const file = path.join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(opts.values));
    args.push('-f', file);
  }
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  return [...args, ...(opts.args ?? [])];
}

async function run(chart: ChartName, build: (dir: string) => string[]): Promise<{ args: string[]; result: HelmResult }> {
  mkdirSync(HELM_HOME, { recursive: true });
  const dir = mkdtempSync(path.join(HELM_HOME, `${chart}-`));
  try {
    const args = build(dir);
    return { args, result: await helm(args) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class Rendered {
  constructor(readonly objects: K8sObject[]) {}

  all<T = K8sObject>(kind: string): T[] {
    return this.objects.filter((o) => o.kind === kind) as T[];
  }

  /** The one object of `kind` (named `name`, if given); throws listing what there is otherwise. */
  get<T = K8sObject>(kind: string, name?: string): T {
    const found = this.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    if (found.length !== 1) {
      const have = this.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
      throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}; rendered: ${have}`);
    }
    return found[0] as T;
  }

  has(kind: string, name?: string): boolean {
    return this.objects.some((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  }

  /** kind/name of every object, sorted. */
  names(): string[] {
    return this.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  }
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`helm rendered invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

/** `helm template` the chart; rejects with the helm error when rendering fails. */
export async function render(chart: ChartName, opts: RenderOptions = {}): Promise<Rendered> {
  const { args, result } = await run(chart, (dir) => templateArgs(chart, opts, dir));
  if (result.code !== 0) throw new HelmError(args, result);
  return new Rendered(parseManifests(result.stdout));
}

/** `helm template` that must fail: resolves with helm's error output. */
export async function renderError(chart: ChartName, opts: RenderOptions = {}): Promise<string> {
  const { args, result } = await run(chart, (dir) => templateArgs(chart, opts, dir));
  if (result.code === 0) throw new Error(`expected helm ${args.join(' ')} to fail, but it rendered:\n${result.stdout.slice(0, 2000)}`);
  return result.stderr;
}

/** NOTES.txt as `helm install --dry-run=client` prints it (no cluster contacted). */
export async function renderNotes(chart: ChartName, opts: RenderOptions = {}): Promise<string> {
  const { args, result } = await run(chart, (dir) => {
    const t = templateArgs(chart, opts, dir);
    return ['install', ...t.slice(1), '--dry-run=client'];
  });
  if (result.code !== 0) throw new HelmError(args, result);
  const at = result.stdout.indexOf('NOTES:\n');
  if (at < 0) throw new Error(`no NOTES in the output of helm ${args.join(' ')}`);
  return result.stdout.slice(at + 'NOTES:\n'.length);
}
