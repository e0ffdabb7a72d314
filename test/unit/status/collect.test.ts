// `rainbow status` through the API server's pod proxy judges a reporter's answer exactly as askPods does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

import { askPod, type PodReport, type PodTarget } from '../../../webhook/src/net/ask-pods.js';
import { proxyAskPods } from '../../../webhook/src/status/collect.js';

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Pod name → the body its reporter answers, served both at a pod address and behind a fake API server's pod proxy. */
async function reporters(bodies: Record<string, string>): Promise<{ direct: (name: string) => PodTarget; kc: KubeConfig; seen: string[] }> {
  const seen: string[] = [];
  const answer = (name: string | undefined, res: http.ServerResponse): void => {
    const body = name === undefined ? undefined : bodies[name];
    res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
    res.end(body ?? '{"kind":"Status","message":"not found"}');
  };
  const podPort = await listen((req, res) => answer(new URL(req.url!, 'http://pod').searchParams.get('pod') ?? undefined, res));
  const apiPort = await listen((req, res) => {
    seen.push(req.url!);
    answer(/^\/api\/v1\/namespaces\/ns\/pods\/([^/:]+):9471\/proxy\/connections$/.exec(req.url!)?.[1], res);
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${apiPort}`, skipTLSVerify: true }],
    users: [{ name: 'me' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'me' }],
    currentContext: 'fake',
  });
  return { direct: (name) => ({ name, ip: '127.0.0.1', port: podPort, path: `/connections?pod=${name}` }), kc, seen };
}

// The reason and what is wrong with the answer, without the part naming where it was asked.
const verdict = (r: PodReport): string => (r.ok ? `ok ${r.established} ${JSON.stringify(r.ports)}` : `${r.reason}: ${r.error.replace(/ from .*?(: | \()/, ' from … $1')}`);

describe('status asking through the pod proxy', () => {
  const bodies: Record<string, string> = {
    good: '{"established": 3, "ports": {"8080": 2, "8081": 1}}',
    total: '{"established": 0}',
    'not-json': 'established=3',
    array: '[1]',
    null: 'null',
    negative: '{"established": -1}',
    string: '{"established": "3"}',
    'fractional-port': '{"established": 1, "ports": {"8080": 1.5}}',
    'negative-port': '{"established": 1, "ports": {"8080": -1}}',
    'ports-array': '{"established": 1, "ports": [1]}',
    'ports-string': '{"established": 1, "ports": "8080"}',
  };

  it('gives the report askPods gives for every answer, good or malformed', async () => {
    const { direct, kc, seen } = await reporters(bodies);
    const names = Object.keys(bodies);
    const targets = names.map((name) => ({ name, ip: '10.0.0.1', port: 9471, path: '/connections' }));
    const proxied = await proxyAskPods(kc, new Map(names.map((n) => [n, 'ns'])))(targets, { concurrency: 3, timeoutMs: 2000 });
    expect(seen).toHaveLength(names.length);
    expect(proxied.map((r) => r.name)).toEqual(names);
    const asked = await Promise.all(names.map((n) => askPod(direct(n))));
    expect(proxied.map(verdict)).toEqual(asked.map(verdict));
  });

  it('refuses per-port counts that are not non-negative integers', async () => {
    const { kc } = await reporters(bodies);
    const names = ['fractional-port', 'negative-port', 'ports-array', 'ports-string'];
    const reports = await proxyAskPods(kc, new Map(names.map((n) => [n, 'ns'])))(names.map((name) => ({ name, ip: '10.0.0.1', port: 9471, path: '/connections' })));
    expect(reports).toEqual(names.map((name) => ({ name, ok: false, reason: 'bad-body', error: expect.stringMatching(new RegExp(`^pod ${name}: bad answer from port 9471/connections through the API server's pod proxy: .*ports`)) })));
  });
});
