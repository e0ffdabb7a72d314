// Builds the pinned control-plane tools from Go modules (scripts/cluster/tools/*/go.mod) into
// .local-cluster/bin. A group whose inputs (go.mod, go.sum, ldflags, Go version) are unchanged
// and whose binaries exist is skipped, so later runs cost nothing; the Go build cache makes a
// rebuild after a bump incremental.
import { createHash } from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { binDir, toolsDir } from './paths.js';
import { progress, elapsed } from './progress.js';

interface ToolGroup {
  /** Folder under scripts/cluster/tools holding the go.mod that pins this group. */
  module: string;
  /** Go packages to build, each giving a binary named after its last path element. */
  packages: string[];
  ldflags: (version: string) => string[];
  /** The module whose required version is reported as the group's version. */
  versionOf: string;
  /** Built only when asked for by name (buildTools({ groups })), never by `scripts/local-cluster build`. */
  optional?: boolean;
}

function versionVars(pkgs: string[], kv: string): string[] {
  const [major, minor] = kv.replace(/^v/, '').split('.');
  return pkgs.flatMap((p) => [
    `-X ${p}.gitVersion=${kv}`,
    `-X ${p}.gitMajor=${major}`,
    `-X ${p}.gitMinor=${minor}`,
    `-X ${p}.gitTreeState=clean`,
  ]);
}

export const TOOL_GROUPS: ToolGroup[] = [
  {
    module: 'kubernetes',
    packages: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl'].map((c) => `k8s.io/kubernetes/cmd/${c}`),
    versionOf: 'k8s.io/kubernetes',
    // Both version packages: component-base is what /version serves, client-go's is kubectl's client version.
    ldflags: (v) => versionVars(['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'], v),
  },
  {
    module: 'etcd',
    packages: ['go.etcd.io/etcd/server/v3'],
    versionOf: 'go.etcd.io/etcd/server/v3',
    ldflags: () => [],
  },
  {
    module: 'helm',
    packages: ['helm.sh/helm/v4/cmd/helm'],
    versionOf: 'helm.sh/helm/v4',
    ldflags: (v) => [`-X helm.sh/helm/v4/internal/version.version=${v}`, '-X helm.sh/helm/v4/internal/version.gitTreeState=clean'],
  },
  {
    // chart-testing's `ct lint`, run on both charts by test/chart/ct-lint.test.ts.
    module: 'chart-testing',
    packages: ['github.com/helm/chart-testing/v3/ct'],
    versionOf: 'github.com/helm/chart-testing/v3',
    ldflags: (v) => [`-X github.com/helm/chart-testing/v3/ct/cmd.Version=${v}`],
  },
  {
    // promtool and Prometheus for the monitoring tests (npm run test:prometheus) only.
    module: 'prometheus',
    packages: ['github.com/prometheus/prometheus/cmd/prometheus', 'github.com/prometheus/prometheus/cmd/promtool'],
    versionOf: 'github.com/prometheus/prometheus',
    // The module's v0.3MM.P is Prometheus 3.MM.P; web/ui's assets are not in the module, so no builtinassets tag (the API needs none).
    ldflags: (v) => [`-X github.com/prometheus/common/version.Version=${prometheusRelease(v)}`, '-X github.com/prometheus/common/version.Branch=HEAD'],
    optional: true,
  },
  {
    // Argo Rollouts' controller for the peers benchmark only (npm run bench -- peers).
    module: 'argo-rollouts',
    packages: ['github.com/argoproj/argo-rollouts/cmd/rollouts-controller'],
    versionOf: 'github.com/argoproj/argo-rollouts',
    // Its Makefile's version variable (without the v); no git commit in a module build, so it reports `v1.8.3+unknown`.
    ldflags: (v) => [`-X github.com/argoproj/argo-rollouts/utils/version.version=${v.replace(/^v/, '')}`],
    optional: true,
  },
  {
    // Flagger's controller for the peers benchmark only (npm run bench -- peers); its CRDs are the module's artifacts/flagger/crd.yaml.
    module: 'flagger',
    packages: ['github.com/fluxcd/flagger/cmd/flagger'],
    versionOf: 'github.com/fluxcd/flagger',
    // VERSION is already the release in the source; REVISION is a git commit, which a module build does not have.
    ldflags: (v) => [`-X github.com/fluxcd/flagger/pkg/version.VERSION=${v.replace(/^v/, '')}`],
    optional: true,
  },
];

/** Prometheus' release for its Go module version: v0.316.0 is 3.16.0. */
export function prometheusRelease(moduleVersion: string): string {
  const m = /^v0\.(\d+)(\d\d)\.(\d+)$/.exec(moduleVersion);
  return m ? `${m[1]}.${Number(m[2])}.${m[3]}` : moduleVersion;
}

function binaryName(pkg: string): string {
  const last = pkg.split('/').pop()!;
  return /^v\d+$/.test(last) ? 'etcd' : last; // go.etcd.io/etcd/server/v3 builds `etcd`
}

export function requiredVersion(group: ToolGroup): string {
  const gomod = readFileSync(path.join(toolsDir, group.module, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*(?:require\\s+)?${group.versionOf.replace(/[.]/g, '\\.')}\\s+(v\\S+)`, 'm').exec(gomod);
  if (!m) throw new Error(`scripts/cluster/tools/${group.module}/go.mod does not require ${group.versionOf}; restore it from git.`);
  return m[1];
}

function goVersion(): string {
  try {
    return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('The Go toolchain is needed to build the local cluster (go was not found on PATH). Install Go 1.25 or newer.');
  }
}

function stampOf(group: ToolGroup, ldflags: string, go: string): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(readFileSync(path.join(toolsDir, group.module, f)));
  h.update(ldflags).update(go).update(group.packages.join(' '));
  return h.digest('hex');
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CGO_ENABLED: '0' } });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} … exited with ${code} in ${cwd}`))));
  });
}

/** The groups `groups` names (each must exist), else every group that is not optional. */
export function selectGroups(groups?: readonly string[]): ToolGroup[] {
  if (!groups) return TOOL_GROUPS.filter((g) => !g.optional);
  return groups.map((name) => {
    const group = TOOL_GROUPS.find((g) => g.module === name);
    if (!group) throw new Error(`no tool group ${name}; there are: ${TOOL_GROUPS.map((g) => g.module).join(', ')}`);
    return group;
  });
}

/**
 * Builds every tool that is missing or out of date: the groups named in `groups`, else every
 * group that is not optional. Returns the versions built or found.
 */
export async function buildTools(opts: { quiet?: boolean; groups?: readonly string[] } = {}): Promise<Record<string, string>> {
  mkdirSync(path.join(binDir, '.stamps'), { recursive: true });
  const go = goVersion();
  const versions: Record<string, string> = {};
  const selected = selectGroups(opts.groups);
  for (const [i, group] of selected.entries()) {
    const version = requiredVersion(group);
    versions[group.module] = version;
    const ldflags = ['-s', '-w', ...group.ldflags(version)].join(' ');
    const stamp = stampOf(group, ldflags, go);
    const stampFile = path.join(binDir, '.stamps', group.module);
    const names = group.packages.map(binaryName);
    const upToDate = names.every((n) => existsSync(path.join(binDir, n))) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
    const label = `[${i + 1}/${selected.length}] ${names.join(', ')} ${version}`;
    if (upToDate) {
      if (!opts.quiet) progress(`${label}: up to date`);
      continue;
    }
    progress(`${label}: building with ${go} (the first build takes several minutes; later ones reuse the Go build cache)`);
    const started = Date.now();
    // One package: name the output (go would call etcd's `server`); several: a folder.
    const out = group.packages.length === 1 ? path.join(binDir, names[0]) : binDir + path.sep;
    await run('go', ['build', '-ldflags', ldflags, '-o', out, ...group.packages], path.join(toolsDir, group.module));
    writeFileSync(stampFile, stamp);
    progress(`${label}: built in ${elapsed(started)}`);
  }
  return versions;
}
