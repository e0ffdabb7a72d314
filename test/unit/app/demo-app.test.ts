import net from 'node:net';
import { jest } from '@jest/globals';
import { colorLine, page, startDemoApp, type DemoApp } from '../../../app/src/demo-app.js';

let app: DemoApp | undefined;
afterEach(async () => {
  jest.useRealTimers();
  await app?.shutdown(0);
  app = undefined;
});

const start = (intervalMs = 5000) => startDemoApp({ color: '3c3fdc', bind: '127.0.0.1', httpPort: 0, tcpPort: 0, intervalMs });

function lines(socket: net.Socket): string[] {
  const out: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => out.push(...d.split('\n').filter(Boolean)));
  return out;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not met');
}

test('the page is painted in the color with the color as heading', async () => {
  app = await start();
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/`);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('background:#3c3fdc');
  expect(html).toContain('<h1>#3c3fdc</h1>');
  expect(page('not-hex-color')).toContain('background:#808080');
  expect(page('<b>')).not.toContain('<b>');
});

test('the stream prints the color at once and then every 5 s', async () => {
  app = await start();
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const s = net.connect({ host: '127.0.0.1', port: app.tcpPort });
  const got = lines(s);
  await until(() => got.length === 1);
  expect(got).toEqual(['The color is #3c3fdc']);
  jest.advanceTimersByTime(4999);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(got).toHaveLength(1);
  jest.advanceTimersByTime(1);
  await until(() => got.length === 2);
  jest.advanceTimersByTime(10_000);
  await until(() => got.length === 4);
  expect(new Set(got)).toEqual(new Set([colorLine('3c3fdc').trim()]));
  s.destroy();
});

test('what the client sends is ignored and the stream goes on', async () => {
  app = await start(20);
  const s = net.connect({ host: '127.0.0.1', port: app.tcpPort });
  const got = lines(s);
  await until(() => got.length >= 1);
  s.write('hello?\nAre you there?\n'.repeat(1000));
  const before = got.length;
  await new Promise((r) => setTimeout(r, 100));
  expect(got.length).toBeGreaterThan(before);
  expect(s.destroyed).toBe(false);
  s.destroy();
});

test('a client that goes away stops its timer', async () => {
  app = await start();
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const idle = jest.getTimerCount();
  const s = net.connect({ host: '127.0.0.1', port: app.tcpPort });
  const got = lines(s);
  await until(() => got.length === 1);
  expect(jest.getTimerCount()).toBe(idle + 1);
  expect(app.streams()).toBe(1);
  s.destroy();
  await until(() => app!.streams() === 0);
  expect(jest.getTimerCount()).toBe(idle);
});

test('on shutdown it refuses new streams but keeps the open one until it closes', async () => {
  app = await start(20);
  const s = net.connect({ host: '127.0.0.1', port: app.tcpPort });
  const got = lines(s);
  await until(() => got.length >= 1);
  let closed = false;
  const done = app.shutdown().then(() => (closed = true));
  const refused = await new Promise<boolean>((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port: app!.tcpPort });
    c.once('connect', () => (c.destroy(), resolve(false)));
    c.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  const n = got.length;
  await new Promise((r) => setTimeout(r, 100));
  expect(got.length).toBeGreaterThan(n);
  expect(closed).toBe(false);
  s.destroy();
  await done;
  expect(closed).toBe(true);
});
