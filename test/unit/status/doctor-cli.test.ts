// `rainbow doctor` and `kubectl rainbow doctor`: wired into both commands, flags checked, and a
// run against an API server that refuses every read ends in warnings naming them, not a crash.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { ROLES, main as rainbow, usage } from '../../../webhook/src/cli.js';
import { main as kubectlRainbow, pluginUsage } from '../../../webhook/src/kubectl-rainbow.js';
import { HelpRequested, UsageError } from '../../../webhook/src/runtime/flags.js';
import { help, run } from '../../../webhook/src/status/doctor/main.js';
import { chartFullname, read } from '../../../webhook/src/status/doctor/gather.js';
import { cliVersion } from '../../../webhook/src/status/doctor/version.js';

const thrown = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('doctor command', () => {
  it('is a command of rainbow and of the kubectl plugin', async () => {
    expect(Object.keys(ROLES)).toContain('doctor');
    expect(usage()).toMatch(/^ {2}doctor +checks the datapath, load balancers, policies, rainbow and the apps: ok\/warn\/fail with the fix$/m);
    expect(pluginUsage()).toMatch(/^ {2}doctor +checks the datapath/m);
    const viaRainbow = await thrown(rainbow(['doctor', '--help']));
    expect(viaRainbow).toBeInstanceOf(HelpRequested);
    expect((viaRainbow as HelpRequested).text).toBe(help('rainbow doctor'));
    const viaKubectl = await thrown(kubectlRainbow(['doctor', '-h']));
    expect((viaKubectl as HelpRequested).text).toBe(help('kubectl rainbow doctor'));
  });

  it('says every flag and the exit codes in --help', () => {
    const text = help();
    for (const flag of ['-n, --namespace', '-A, --all-namespaces', '-o, --output FORMAT', '--release NAME', '--system-namespace NS', '--pod-timeout 2s', '--direct', '--kubeconfig FILE']) expect(text).toContain(flag);
    expect(text).toContain('Exit status: 0 every check ok, 1 a warning (or doctor itself failed), 2 a failure (or a usage\nerror).');
  });

  it('refuses wrong flags before reading anything, saying which', async () => {
    expect(await thrown(rainbow(['doctor', '-o', 'yaml']))).toEqual(new UsageError('rainbow doctor: --output must be table or json, got "yaml"'));
    expect(await thrown(kubectlRainbow(['doctor', '-n', 'a', '-A']))).toEqual(new UsageError('kubectl rainbow doctor: --namespace and --all-namespaces exclude each other'));
    const timeout = await thrown(rainbow(['doctor', '--pod-timeout', 'soon']));
    expect((timeout as Error).message).toMatch(/^rainbow doctor: --pod-timeout: invalid duration "soon"/);
    const unknown = await thrown(rainbow(['doctor', '--watch']));
    expect((unknown as Error).message).toMatch(/^rainbow doctor: Unknown option '--watch'.*\nrun `rainbow doctor --help` for the flags\.$/s);
  });

  it('knows its own version and the chart’s names', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(cliVersion()).toBe(pkg.version);
    expect(cliVersion('/')).toBe('unknown');
    expect(chartFullname('rainbow')).toBe('rainbow');
    expect(chartFullname('rainbow-shop')).toBe('rainbow-shop');
    expect(chartFullname('infra')).toBe('infra-rainbow');
  });

  it('records 404 as absent, 401/403 as forbidden and the rest as failed', async () => {
    const target = { verb: 'get' as const, resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy' };
    const failing = (code: number, message: string) => () => Promise.reject(Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ message }) }));
    expect(await read(target, () => Promise.resolve(1))).toEqual({ status: 'found', value: 1 });
    expect(await read(target, failing(404, 'not found'))).toEqual({ status: 'absent', target });
    expect(await read(target, failing(403, 'nope'))).toEqual({ status: 'forbidden', target, message: 'nope' });
    expect(await read(target, failing(500, 'etcd'))).toEqual({ status: 'failed', target, message: 'etcd' });
  });
});

describe('a run whose every read is refused', () => {
  let server: http.Server;
  let dir: string;
  let kubeconfig: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: `User "jane" cannot do ${req.url?.split('?')[0]}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-cli-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: jane, user: {token: t}}]\ncontexts: [{name: fake, context: {cluster: fake, user: jane, namespace: shop}}]\ncurrent-context: fake\n`,
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((resolve) => server.close(resolve));
  });

  it('warns for each area, naming what it could not read, and exits 1', async () => {
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const before = process.exitCode;
    try {
      await run(['-o', 'json', `--kubeconfig=${kubeconfig}`]);
      expect(process.exitCode).toBe(1);
    } finally {
      write.mockRestore();
      process.exitCode = before;
    }
    const doc = JSON.parse(out.join('')) as { summary: unknown; checks: Array<{ area: string; check: string; status: string; finding: string }> };
    expect(doc.checks.map((c) => `${c.status} ${c.area} ${c.check}`)).toEqual([
      'warn datapath kube-proxy',
      'warn datapath cilium',
      'warn datapath calico',
      'warn conntrack kube-proxy',
      'warn load balancers Services',
      'ok network policies apps',
      'warn rainbow configurations',
      'warn rainbow lease',
      'warn rainbow version',
      'warn apps apps',
      'warn apps apps',
    ]);
    expect(doc.checks.map((c) => c.finding.split(': forbidden')[0])).toEqual([
      'cannot get configmaps kube-proxy in kube-system',
      'cannot get configmaps cilium-config in kube-system',
      'cannot get felixconfigurations.crd.projectcalico.org default',
      'cannot get configmaps kube-proxy in kube-system',
      'cannot list services in shop',
      'no rainbow Deployments in namespace shop: no pods to check policies against',
      'cannot get mutatingwebhookconfigurations.admissionregistration.k8s.io rainbow',
      'cannot get leases.coordination.k8s.io rainbow-controller in rainbow-system',
      'cannot get deployments.apps rainbow-webhook in rainbow-system',
      'cannot list services in shop',
      'cannot list deployments.apps in shop',
    ]);
    expect(doc.checks[0]!.finding).toBe(
      'cannot get configmaps kube-proxy in kube-system: forbidden (User "jane" cannot do /api/v1/namespaces/kube-system/configmaps/kube-proxy); the kube-proxy mode is not known; get daemonsets.apps kube-proxy in kube-system was refused too',
    );
    expect(doc.summary).toEqual({ ok: 1, warn: 10, fail: 0 });
    expect(seen).toContain('GET /apis/crd.projectcalico.org/v1/felixconfigurations/default');
  });
});
