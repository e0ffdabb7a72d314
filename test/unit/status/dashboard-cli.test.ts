// `rainbow dashboard` and `kubectl rainbow dashboard`: wired into both commands, with their flags checked before anything starts.
import { ROLES, main as rainbow, usage } from '../../../webhook/src/cli.js';
import { main as kubectlRainbow, pluginUsage } from '../../../webhook/src/kubectl-rainbow.js';
import { HelpRequested, UsageError } from '../../../webhook/src/runtime/flags.js';
import { help } from '../../../webhook/src/status/dashboard/main.js';

const thrown = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('dashboard command', () => {
  it('is a command of rainbow and of the kubectl plugin', async () => {
    expect(Object.keys(ROLES)).toContain('dashboard');
    expect(usage()).toMatch(/^ {2}dashboard +a local web page/m);
    expect(pluginUsage()).toMatch(/^ {2}dashboard +a local web page/m);
    const viaRainbow = await thrown(rainbow(['dashboard', '--help']));
    expect(viaRainbow).toBeInstanceOf(HelpRequested);
    expect((viaRainbow as HelpRequested).text).toBe(help('rainbow dashboard'));
    const viaKubectl = await thrown(kubectlRainbow(['dashboard', '-h']));
    expect((viaKubectl as HelpRequested).text).toMatch(/^usage: kubectl rainbow dashboard \[flags\]/);
  });

  it('says every flag, the states and the RBAC it needs in --help', () => {
    const text = help();
    for (const flag of ['--port 3100', '--bind 127.0.0.1', '-n, --namespace', '-A, --all-namespaces', '--interval 2s', '--pod-timeout', '--direct', '--kubeconfig']) expect(text).toContain(flag);
    expect(text).toMatch(/^ {2}draining +served before/m);
    expect(text).toContain('plus list events');
  });

  it('refuses wrong flags before it starts, saying which', async () => {
    expect(await thrown(rainbow(['dashboard', '--port', 'x']))).toEqual(new UsageError('rainbow dashboard: --port must be a port number 0-65535, got "x"'));
    expect(await thrown(rainbow(['dashboard', '-n', 'a', '-A']))).toEqual(new UsageError('rainbow dashboard: --namespace and --all-namespaces exclude each other'));
    const unknown = await thrown(rainbow(['dashboard', '--watch']));
    expect(unknown).toBeInstanceOf(UsageError);
    expect((unknown as Error).message).toMatch(/^rainbow dashboard: Unknown option '--watch'.*\nrun `rainbow dashboard --help` for the flags\.$/s);
    const interval = await thrown(kubectlRainbow(['dashboard', '--interval', 'soon']));
    expect(interval).toBeInstanceOf(UsageError);
    expect((interval as Error).message).toMatch(/^kubectl rainbow dashboard: --interval: /);
  });
});
