// The portal into the cluster namespace: the "ADDRESS PORT" header it accepts, and on this host
// (no namespace) a real portal on a Unix socket in front of local HTTP and TCP servers.
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clusterGet, dialCluster, parseTarget, servePortal } from '../../../scripts/cluster/network/portal.js';
import { freePort } from '../../../scripts/cluster/processes.js';

test('the header names an IPv4 address or localhost and a port', () => {
  expect(parseTarget('10.244.0.5 8081')).toEqual({ host: '10.244.0.5', port: 8081 });
  expect(parseTarget('localhost 80')).toEqual({ host: 'localhost', port: 80 });
  expect(parseTarget('127.0.0.1 65535\r')).toEqual({ host: '127.0.0.1', port: 65535 });
  expect(parseTarget('10.96.0.1 1')).toEqual({ host: '10.96.0.1', port: 1 });
});

test('a header with a bad port, a host name, no port or more words is refused', () => {
  for (const bad of ['999.1.1.1 80', '10.244.0.256 80']) expect(parseTarget(bad)).toBeUndefined();
  for (const bad of ['10.244.0.5 0', '10.244.0.5 65536', '10.244.0.5 123456', 'example.com 80', 'kubernetes.default.svc 443', '10.244.0.5', '10.244.0.5 ', '10.244.0.5 80 90', 'CONNECT 10.244.0.5 80', '10.244.0.5:80', '', '::1 80']) {
    expect([bad, parseTarget(bad)]).toEqual([bad, undefined]);
  }
});

/** Reads from `s` until exactly `expected` has arrived; rejects when it closes first. */
function readUntil(s: net.Socket, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= expected.length) {
        done();
        resolve(got);
      }
    };
    const onClose = () => {
      done();
      reject(new Error(`closed after ${JSON.stringify(got)}`));
    };
    const done = () => {
      s.off('data', onData);
      s.off('close', onClose);
    };
    s.on('data', onData);
    s.on('close', onClose);
  });
}

describe('through a portal on a Unix socket', () => {
  let dir: string;
  let socketPath: string;
  let portal: net.Server;
  let web: http.Server;
  let echo: net.Server;
  const logged: string[] = [];
  const open = new Set<net.Socket>();
  let accepted: ((s: net.Socket) => void)[] = [];
  const nextAccepted = () => new Promise<net.Socket>((resolve) => accepted.push(resolve));
  const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;
  const track = (s: net.Socket) => (open.add(s), s);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-portal-test-'));
    socketPath = path.join(dir, 'portal.sock');
    portal = await servePortal(socketPath, (m) => logged.push(m));
    web = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${req.url}`));
    echo = net.createServer((s) => {
      track(s).on('data', (d) => s.write(d));
      s.on('error', () => {});
      const waiting = accepted;
      accepted = [];
      for (const w of waiting) w(s);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    web.closeAllConnections();
    await Promise.all([portal, web, echo].map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the socket is for its owner only', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
  });

  test('clusterGet fetches a page through it', async () => {
    await expect(clusterGet(`http://127.0.0.1:${portOf(web)}/x`, 2000, socketPath)).resolves.toEqual({ status: 200, body: 'hello from /x' });
    await expect(clusterGet(`http://127.0.0.1:${portOf(web)}/y?z=1`, 2000, socketPath)).resolves.toEqual({ status: 200, body: 'hello from /y?z=1' });
  });

  test('clusterGet to a port where nothing listens rejects, naming the URL', async () => {
    const closed = await freePort();
    await expect(clusterGet(`http://127.0.0.1:${closed}/`, 2000, socketPath)).rejects.toThrow(`GET http://127.0.0.1:${closed}/ inside the cluster`);
  });

  test('bytes sent in the same write as the header reach the target', async () => {
    const client = track(net.connect(socketPath));
    client.write(`127.0.0.1 ${portOf(echo)}\nping`);
    await expect(readUntil(client, 'ping')).resolves.toBe('ping');
    client.destroy();
  });

  test('bytes written right after dialCluster reach the target, and the connection stays open both ways', async () => {
    const client = track(dialCluster('127.0.0.1', portOf(echo), socketPath));
    client.write('first');
    await expect(readUntil(client, 'first')).resolves.toBe('first');
    client.write('second');
    await expect(readUntil(client, 'second')).resolves.toBe('second');
    client.destroy();
  });

  test('when the client goes, the connection to the target is closed too', async () => {
    const upstream = nextAccepted();
    const client = track(dialCluster('127.0.0.1', portOf(echo), socketPath));
    const target = await upstream;
    const closed = once(target, 'close');
    client.destroy();
    await closed;
    expect(target.destroyed).toBe(true);
  });

  test('when the target goes, the client\'s connection is closed too', async () => {
    const upstream = nextAccepted();
    const client = track(dialCluster('127.0.0.1', portOf(echo), socketPath));
    client.on('error', () => {});
    const target = await upstream;
    const closed = once(client, 'close');
    target.destroy();
    await closed;
    expect(client.destroyed).toBe(true);
  });

  test('a header naming a host name is refused and logged, and the client gets nothing back', async () => {
    const client = track(net.connect(socketPath));
    client.on('error', () => {});
    let answered = false;
    client.on('data', () => (answered = true));
    client.write('example.com 80\nGET / HTTP/1.0\r\n\r\n');
    await once(client, 'close');
    expect(answered).toBe(false);
    expect(logged.at(-1)).toBe('portal: refused a connection with header "example.com 80"');
  });

  test('a connection that never ends its header is closed once it passes 256 bytes', async () => {
    const client = track(net.connect(socketPath));
    client.on('error', () => {});
    const closed = once(client, 'close');
    client.write('1'.repeat(300));
    await closed;
    expect(client.destroyed).toBe(true);
  });
});
