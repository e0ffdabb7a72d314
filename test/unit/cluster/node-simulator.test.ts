// Pure parts of the node simulator: which images run here, kubelet's $(VAR) expansion, env
// resolution, and pod addresses from the Node's podCIDR.
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
  expect(expand('--pod-ip=$(POD_IP)', { POD_IP: '10.244.0.2' })).toBe('--pod-ip=10.244.0.2');
  expect(expand('$$(POD_IP) $(NOPE)', { POD_IP: 'x' })).toBe('$(POD_IP) $(NOPE)');
});

const pod: V1Pod = { metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', labels: { tier: 'front' } }, spec: { containers: [], nodeName: 'n1' } };
const ctx = (lookup: PodContext['lookup'] = async () => undefined, baseEnv?: Record<string, string>): PodContext => ({
  pod,
  podIP: '10.244.0.9',
  hostIP: '10.250.0.2',
  rainbow: ['node', 'cli.js'],
  lookup,
  baseEnv,
});

test('a container resolves to the rainbow CLI with the pod env, its HOSTNAME and no bind address', async () => {
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
  expect(r.spec.argv).toEqual(['node', 'cli.js', 'reporter', '--pod-ip', '10.244.0.9']);
  expect(r.spec.env).toMatchObject({ POD_IP: '10.244.0.9', NAME: 'web-1', NS: 'shop', TIER: 'front', GREETING: 'hi', WHERE: 'web-1.shop', HOSTNAME: 'web-1' });
  // The pod has a network namespace of its own: the process binds its own address like in a container.
  expect(r.spec.env).not.toHaveProperty('RAINBOW_BIND_ADDRESS');
});

test('the Service links are the base of the env and the container\'s own env wins over them', async () => {
  const base = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', SHOP_SERVICE_HOST: '10.96.0.20' };
  const c: V1Container = { name: 'app', image: 'rainbow', env: [{ name: 'SHOP_SERVICE_HOST', value: 'mine' }] };
  const r = await resolveContainer(c, ctx(undefined, base));
  expect(r.ok && r.spec.env).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', SHOP_SERVICE_HOST: 'mine', HOSTNAME: 'web-1' });
  expect(r.ok && r.spec.env).not.toHaveProperty('RAINBOW_BIND_ADDRESS');
});

test('$(VAR) in env values and arguments sees the Service links too', async () => {
  const base = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const c: V1Container = { name: 'app', image: 'rainbow', args: ['--server=https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)'], env: [{ name: 'API', value: '$(KUBERNETES_SERVICE_HOST)' }] };
  const r = await resolveContainer(c, ctx(undefined, base));
  expect(r.ok && r.spec.argv).toEqual(['node', 'cli.js', '--server=https://10.96.0.1:443']);
  expect(r.ok && r.spec.env.API).toBe('10.96.0.1');
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

test('pod addresses start after the gateway and skip the network, gateway and broadcast addresses', () => {
  const pool = new IpPool('10.244.0.0/24');
  const ips = Array.from({ length: 253 }, () => pool.allocate());
  expect(ips.slice(0, 3)).toEqual(['10.244.0.2', '10.244.0.3', '10.244.0.4']);
  expect(ips.at(-1)).toBe('10.244.0.254');
  expect(new Set(ips).size).toBe(253);
  for (const reserved of ['10.244.0.0', '10.244.0.1', '10.244.0.255']) expect(ips).not.toContain(reserved);
  expect(() => pool.allocate()).toThrow(/podCIDR 10\.244\.0\.0\/24 is exhausted/);
});

test('in a larger block only its own network, gateway and broadcast addresses are reserved', () => {
  const pool = new IpPool('10.244.16.0/20');
  const ips = Array.from({ length: 4093 }, () => pool.allocate());
  expect(new Set(ips).size).toBe(4093);
  expect(ips[0]).toBe('10.244.16.2');
  expect(ips).toContain('10.244.16.255');
  expect(ips).toContain('10.244.17.0');
  expect(ips.at(-1)).toBe('10.244.31.254');
  expect(() => pool.allocate()).toThrow('10.244.16.0/20');
});

test('a released address is handed out again only after the block has wrapped around', () => {
  const pool = new IpPool('10.244.0.0/24');
  const first = pool.allocate();
  pool.allocate();
  pool.release(first);
  const rest = Array.from({ length: 251 }, () => pool.allocate()); // .4 … .254
  expect(rest).not.toContain(first);
  expect(rest.at(-1)).toBe('10.244.0.254');
  expect(pool.allocate()).toBe(first); // wrapped: the only free address
  expect(() => pool.allocate()).toThrow('10.244.0.0/24');
});

test('claim takes an address of the block once and allocate then skips it', () => {
  const pool = new IpPool('10.244.0.0/24');
  expect(pool.claim('10.244.0.2')).toBe(true);
  expect(pool.claim('10.244.0.2')).toBe(false);
  expect(pool.claim('10.244.0.77')).toBe(true);
  expect(pool.allocate()).toBe('10.244.0.3');
  expect(pool.claim('10.244.0.3')).toBe(false); // allocated, so held
  pool.release('10.244.0.77');
  expect(pool.claim('10.244.0.77')).toBe(true);
});

test('claim refuses the network and broadcast addresses and what is not IPv4', () => {
  const pool = new IpPool('10.244.0.0/24');
  for (const no of ['10.244.0.0', '10.244.0.255', 'fd00::5', 'nope']) expect(pool.claim(no)).toBe(false);
});

test('claim refuses the gateway and addresses outside the block', () => {
  const pool = new IpPool('10.244.16.0/20');
  expect(pool.claim('10.244.16.1')).toBe(false);
  for (const outside of ['10.244.15.254', '10.244.32.2', '127.10.0.9', '10.0.0.1']) expect(pool.claim(outside)).toBe(false);
  expect(pool.claim('10.244.31.254')).toBe(true);
});

test('gateway and prefix length come from the podCIDR', () => {
  expect(new IpPool('10.244.16.0/20')).toMatchObject({ gateway: '10.244.16.1', bits: 20 });
  expect(new IpPool('10.244.0.0/24')).toMatchObject({ gateway: '10.244.0.1', bits: 24 });
  expect(new IpPool('10.244.3.7/20').gateway).toBe('10.244.0.1');
});

test('a block too small for a pod besides the gateway is refused; a /30 holds one pod', () => {
  expect(() => new IpPool('10.244.0.0/31')).toThrow(/too small/);
  expect(() => new IpPool('10.244.0.0/32')).toThrow(/too small/);
  expect(() => new IpPool('10.244.0')).toThrow(/not an IPv4 CIDR/);
  const tiny = new IpPool('10.244.0.4/30');
  expect(tiny.allocate()).toBe('10.244.0.6');
  expect(() => tiny.allocate()).toThrow('10.244.0.4/30');
});

test('a restarted pool goes on where the last one stopped, so the addresses of pods that just went are not handed out at once', () => {
  const before = new IpPool('10.244.0.0/24');
  for (let i = 0; i < 40; i++) before.allocate();
  expect(before.nextAddress).toBe('10.244.0.42');
  const after = new IpPool('10.244.0.0/24');
  after.resumeAt(before.nextAddress);
  expect(after.claim('10.244.0.41')).toBe(true); // an adopted pod keeps its address
  expect(after.allocate()).toBe('10.244.0.42');
  // Outside the block, the network, gateway or broadcast address: ignored.
  for (const bad of ['10.245.0.9', '10.244.0.0', '10.244.0.1', '10.244.0.255', 'x']) {
    const p = new IpPool('10.244.0.0/24');
    p.resumeAt(bad);
    expect(p.allocate()).toBe('10.244.0.2');
  }
});
