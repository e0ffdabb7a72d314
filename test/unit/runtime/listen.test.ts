// Listening on --port/--bind and the URL printed for it.
import http from 'node:http';
import net from 'node:net';
import { listen, serverUrl, urlHost } from '../../../webhook/src/runtime/listen.js';

test('URLs: IPv4 as it is, IPv6 in brackets, all interfaces as the address listened on', () => {
  expect(serverUrl({ address: '127.0.0.1', port: 9471 })).toBe('http://127.0.0.1:9471');
  expect(serverUrl({ address: '0.0.0.0', port: 9090 })).toBe('http://0.0.0.0:9090');
  expect(serverUrl({ address: '::1', port: 8443 }, 'https')).toBe('https://[::1]:8443');
  expect(serverUrl({ address: '::', port: 8080 })).toBe('http://[::]:8080');
  expect(serverUrl({ address: 'fd00::a:5', port: 1 })).toBe('http://[fd00::a:5]:1');
  expect(urlHost('10.0.0.5')).toBe('10.0.0.5');
  expect(urlHost('::ffff:10.0.0.5')).toBe('[::ffff:10.0.0.5]');
});

test('listens on the bind address and an assigned port, and the URL reaches it', async () => {
  const server = http.createServer((_req, res) => res.end('here'));
  const l = await listen(server, { port: 0, bind: '127.0.0.1', name: 'test' });
  try {
    expect(l.port).toBeGreaterThan(0);
    expect(l.address).toEqual({ address: '127.0.0.1', family: 'IPv4', port: l.port });
    expect(l.url).toBe(`http://127.0.0.1:${l.port}`);
    expect(await (await fetch(l.url)).text()).toBe('here');
  } finally {
    await l.close();
  }
  expect(server.listening).toBe(false);
});

test('a port in use is an error naming who, where, why and the flag to change', async () => {
  const first = await listen(net.createServer(), { port: 0, bind: '127.0.0.1', name: 'one' });
  try {
    const err = await listen(net.createServer(), { port: first.port, bind: '127.0.0.1', name: 'reporter', flag: 'port' }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`reporter cannot listen on 127.0.0.1:${first.port} (EADDRINUSE); free the port or pass --port`);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    const bare = await listen(net.createServer(), { port: first.port, bind: '127.0.0.1', name: 'app' }).catch((e: Error) => e);
    expect((bare as Error).message).toBe(`app cannot listen on 127.0.0.1:${first.port} (EADDRINUSE); free the port`);
  } finally {
    await first.close();
  }
});

test('close waits for a request in flight; with a grace it cuts it off after the grace; a second call is the same close', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = http.createServer((_req, res) => void gate.then(() => res.end('done')));
  const l = await listen(server, { port: 0, bind: '127.0.0.1', name: 'test' });
  const inFlight = fetch(l.url).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 50));
  let closed = false;
  const closing = l.close().then(() => (closed = true));
  expect(l.close()).toBe(l.close());
  await new Promise((r) => setTimeout(r, 50));
  expect(closed).toBe(false);
  release();
  expect(await inFlight).toBe('done');
  await closing;
  expect(closed).toBe(true);

  const stuck = http.createServer(() => undefined);
  const s = await listen(stuck, { port: 0, bind: '127.0.0.1', name: 'test' });
  const cut = fetch(s.url).then(
    () => 'answered',
    () => 'cut off',
  );
  await new Promise((r) => setTimeout(r, 50));
  await s.close(20);
  expect(await cut).toBe('cut off');
});
