// The local cluster without root: run as an ordinary user (nobody), it makes a user namespace
// first, as rootless Kubernetes does, and everything else works the same. When the tests
// themselves run as an ordinary user, the main cluster is the rootless one.
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { readState, type ClusterState } from '../../scripts/cluster/control-plane.js';
import { repoRoot } from '../../scripts/cluster/paths.js';
import { eventually, otherClusterEnv } from './support/cluster.js';
import { colorDeployment } from '../../scripts/cluster/app-objects.js';

const run = promisify(execFile);
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-rootless-'));
let started = false;

/** `scripts/local-cluster CMD` as user nobody, with a state folder of its own. */
const asNobody = (cmd: string) =>
  run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, path.join(repoRoot, 'dist', 'scripts', 'cluster', 'main.js'), cmd], {
    env: otherClusterEnv(dir, { HOME: dir }),
    encoding: 'utf8',
    timeout: 240_000,
  });

afterAll(async () => {
  if (started && existsSync(path.join(dir, 'state.json'))) await asNobody('down').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

(asRoot ? test : test.skip)('as nobody: a cluster in a user namespace runs a pod that answers on its NodePort, and down removes it all', async () => {
  chownSync(dir, NOBODY, NOBODY);
  started = true;
  await asNobody('up');
  const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as ClusterState;
  expect(state.namespace.rootless).toBe(true);
  // The namespace's user namespace maps nobody to root, and nothing else.
  expect(readFileSync(`/proc/${state.namespace.pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', String(NOBODY), '1']);

  const kc = new KubeConfig();
  kc.loadFromFile(path.join(dir, 'kubeconfig'));
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: 'default', body: colorDeployment('solo', 'ccddee') });
  await core.createNamespacedService({
    namespace: 'default',
    body: { metadata: { name: 'solo' }, spec: { type: 'NodePort', selector: { 'rainbow.dev/app': 'solo' }, ports: [{ port: 8080, targetPort: 'http', nodePort: 31888 }] } },
  });
  const color = await eventually('the rootless pod answering on its NodePort', async () => {
    const res = await fetch(`http://${state.host}:31888/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    return res?.headers.get('x-rainbow-color') ?? undefined;
  }, 90_000, 250);
  expect(color).toBe('ccddee');

  await asNobody('down');
  expect(existsSync(path.join(dir, 'state.json'))).toBe(false);
  await expect(fetch(`http://${state.host}:31888/`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});

(asRoot ? test.skip : test)('as an ordinary user: the main cluster runs in a user namespace', () => {
  expect(readState()!.namespace.rootless).toBe(true);
});
