// Fault: a pod's reporter dies while the guard is asking it. The delete must be refused, naming
// the pod, within the per-pod timeout, and nothing may be left open.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { AdmissionRequest } from '../../../webhook/src/admission/review.js';
import type { SnapshotReader } from '../../../webhook/src/webhook/reads/snapshots.js';
import { deleteGuardHandler } from '../../../webhook/src/webhook/handlers.js';
import { freePort } from '../../../scripts/cluster/processes.js';
import { rainbowCommand } from '../../../scripts/cluster/rainbow-command.js';

const labels = { 'rainbow.dev/app': 'web', 'rainbow.dev/color': 'a1b2c3' };

function reader(pods: V1Pod[]): SnapshotReader {
  const deployment: V1Deployment = { metadata: { name: 'web-a1b2c3', namespace: 'shop', labels }, spec: { replicas: pods.length, selector: { matchLabels: labels }, template: {} } };
  const service: V1Service = { metadata: { name: 'web', namespace: 'shop', labels: { 'rainbow.dev/app': 'web' } }, spec: { selector: { ...labels, 'rainbow.dev/color': 'b4d5e6' } } };
  return {
    appSnapshot: async () => ({ deployments: [deployment], services: [service] }),
    guardSnapshot: async () => ({ namespacePhase: 'Active', deployment, services: [service], pods, now: new Date() }),
  };
}

const request = {
  uid: 'killed',
  kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
  resource: { group: 'apps', version: 'v1', resource: 'deployments' },
  operation: 'DELETE',
  namespace: 'shop',
  name: 'web-a1b2c3',
  userInfo: { username: 'alice' },
  oldObject: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-a1b2c3', namespace: 'shop', labels }, spec: { replicas: 2, selector: { matchLabels: labels } } },
} as unknown as AdmissionRequest;

test('a reporter killed mid-check: the delete is refused, naming that pod, inside the per-pod timeout', async () => {
  // A real reporter process, and a "slow" front for it: the guard connects to the front, which
  // holds the request until the reporter behind it has been SIGKILLed, then relays the dead end.
  const reporterPort = await freePort();
  const rainbow = rainbowCommand();
  const reporter = spawn(rainbow.node, [...rainbow.args, 'reporter', '--ports', '8081', `--port=${reporterPort}`, '--bind=127.0.0.1'], { stdio: 'ignore' });
  const exited = new Promise((r) => reporter.once('exit', r));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: reporterPort }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const front = net.createServer((client) => {
    client.once('data', (firstBytes) => {
      reporter.kill('SIGKILL'); // dies while the request is in flight
      void exited.then(() => {
        const upstream = net.connect({ host: '127.0.0.1', port: reporterPort });
        upstream.once('error', () => client.destroy()); // refused: the reporter is gone
        upstream.once('connect', () => upstream.write(firstBytes));
        upstream.pipe(client);
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const frontPort = (front.address() as net.AddressInfo).port;

  // A healthy second pod answering 0.
  const healthy = net.createServer((c) => {
    c.once('data', () => c.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"established":0,"ports":{"8081":0}}'));
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', () => r()));
  const healthyPort = (healthy.address() as net.AddressInfo).port;

  const pod = (name: string, port: number): V1Pod => ({
    metadata: { name, namespace: 'shop', labels, annotations: { 'rainbow.dev/connections-port': String(port) } },
    status: { phase: 'Running', podIP: '127.0.0.1' },
  });
  const handler = deleteGuardHandler(reader([pod('web-a1b2c3-dying', frontPort), pod('web-a1b2c3-fine', healthyPort)]), {
    onUnknown: 'deny',
    podTimeoutMs: 1500,
    concurrency: 4,
    budgetMs: 4000,
  });
  try {
    const started = Date.now();
    const decision = await handler(request);
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
    expect(decision.allowed).toBe(false);
    expect(decision.status?.message).toMatch(/could not ask pod web-a1b2c3-dying/);
    expect(decision.status?.message).not.toContain('web-a1b2c3-fine:');
    expect(decision.status?.message).toContain('rainbow.dev/force-delete=true');
  } finally {
    reporter.kill('SIGKILL');
    await new Promise((r) => front.close(r));
    await new Promise((r) => healthy.close(r));
  }
});
