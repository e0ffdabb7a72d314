// Pure parts of the node simulator: which images run here, kubelet's $(VAR) expansion, env
// resolution, and pod addresses.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expand, isProjectImage, resolveContainer, type PodContext } from '../../../scripts/cluster/node-simulator/container-spec.js';
import { IpPool } from '../../../scripts/cluster/node-simulator/ip-pool.js';

test('only the project image runs, under any registry and tag', () => {
  for (const ok of ['rainbow', 'rainbow:latest', 'rainbow:3c3fdc', 'ghcr.io/acme/rainbow:v1.2.3', 'localhost:5000/rainbow', `rainbow@sha256:${'a'.repeat(64)}`]) {
    expect([ok, isProjectImage(ok)]).toEqual([ok, true]);
  }
  for (const no of ['nginx', 'rainbow-app', 'acme/rainbows:1', 'notrainbow', 'ghcr.io/rainbow/app:1', undefined]) {
    expect([no, isProjectImage(no)]).toEqual([no, false]);
  }
});

test('$(VAR) expansion follows Kubernetes: known names replaced, $$ escapes, unknown kept', () => {
  expect(expand('--pod-ip=$(POD_IP)', { POD_IP: '127.10.0.2' })).toBe('--pod-ip=127.10.0.2');
  expect(expand('$$(POD_IP) $(NOPE)', { POD_IP: 'x' })).toBe('$(POD_IP) $(NOPE)');
});

const pod: V1Pod = { metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', labels: { tier: 'front' } }, spec: { containers: [], nodeName: 'n1' } };
const ctx = (lookup: PodContext['lookup'] = async () => undefined): PodContext => ({ pod, podIP: '127.10.0.9', hostIP: '127.0.0.1', rainbow: ['node', 'cli.js'], lookup });

test('a container resolves to the rainbow CLI with the pod env and the bind address', async () => {
  const c: V1Container = {
    name: 'app',
    image: 'rainbow:x',
    args: ['reporter', '--pod-ip', '$(POD_IP)'],
    env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
      { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cm', key: 'hello' } } },
      { name: 'WHERE', value: '$(NAME).$(NS)' },
    ],
  };
  const r = await resolveContainer(c, ctx(async (kind, name, key) => (kind === 'ConfigMap' && name === 'cm' && key === 'hello' ? 'hi' : undefined)));
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.spec.argv).toEqual(['node', 'cli.js', 'reporter', '--pod-ip', '127.10.0.9']);
  expect(r.spec.env).toMatchObject({ POD_IP: '127.10.0.9', NAME: 'web-1', NS: 'shop', TIER: 'front', GREETING: 'hi', WHERE: 'web-1.shop', RAINBOW_BIND_ADDRESS: '127.10.0.9' });
});

test('what cannot run here gets a reason and a message', async () => {
  const image = await resolveContainer({ name: 'x', image: 'nginx:1.27' }, ctx());
  expect(image).toMatchObject({ ok: false, reason: 'ImageNotRunnableHere' });
  const command = await resolveContainer({ name: 'x', image: 'rainbow', command: ['sh', '-c', 'sleep 1'] }, ctx());
  expect(command).toMatchObject({ ok: false, reason: 'CommandNotRunnableHere' });
  const missing = await resolveContainer({ name: 'x', image: 'rainbow', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, ctx());
  expect(missing).toMatchObject({ ok: false, reason: 'CreateContainerConfigError', message: 'env K: Secret s has no key k' });
  const named = await resolveContainer({ name: 'x', image: 'acme/rainbow:1', command: ['/usr/local/bin/rainbow', 'app'] }, ctx());
  expect(named.ok && named.spec.argv).toEqual(['node', 'cli.js', 'app']);
});

test('pod addresses are unique, skip .0/.1/.255 and are not reused', () => {
  const pool = new IpPool('127.10');
  const ips = Array.from({ length: 600 }, () => pool.allocate());
  expect(new Set(ips).size).toBe(600);
  expect(ips[0]).toBe('127.10.0.2');
  expect(ips.every((ip) => !/\.(0|1|255)$/.test(ip))).toBe(true);
  pool.release(ips[0]);
  expect(pool.allocate()).not.toBe(ips[0]);
  expect(pool.claim('127.10.200.7')).toBe(true);
  expect(pool.claim('127.10.200.7')).toBe(false);
  expect(pool.claim('10.0.0.1')).toBe(false);
});
