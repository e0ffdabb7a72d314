// The shared shutdown: once on the first SIGTERM/SIGINT, steps in order, then exit; driven by a
// fake emitter and exit function, never by real signals sent to jest.
import { EventEmitter } from 'node:events';
import { onShutdown, shutdownSignal, type SignalSource } from '../../../webhook/src/runtime/shutdown.js';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited!: () => void;
  const done = new Promise<void>((r) => (exited = r));
  return {
    signals: emitter as unknown as SignalSource,
    emit: (signal: string) => emitter.emit(signal),
    listeners: (signal: string) => emitter.listenerCount(signal),
    exit: (code: number) => {
      exits.push(code);
      exited();
    },
    exits,
    done,
  };
}

test('the first signal logs it, runs the steps in order (awaiting each) and exits 0', async () => {
  const p = fakeProcess();
  const seen: string[] = [];
  onShutdown(
    [
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push('first');
      },
      () => seen.push('second'),
    ],
    { log: (signal) => seen.push(`log ${signal}`), signals: p.signals, exit: p.exit },
  );
  expect(p.listeners('SIGTERM')).toBe(1);
  expect(p.listeners('SIGINT')).toBe(1);
  p.emit('SIGTERM');
  await p.done;
  expect(seen).toEqual(['log SIGTERM', 'first', 'second']);
  expect(p.exits).toEqual([0]);
});

test('a second signal during the shutdown does not run it again', async () => {
  const p = fakeProcess();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const logged: string[] = [];
  onShutdown(
    [
      () => {
        runs++;
        return gate;
      },
    ],
    { log: (s) => logged.push(s), signals: p.signals, exit: p.exit },
  );
  p.emit('SIGINT');
  p.emit('SIGTERM');
  await new Promise((r) => setImmediate(r));
  expect(runs).toBe(1);
  expect(p.exits).toEqual([]);
  release();
  await p.done;
  expect(runs).toBe(1);
  expect(logged).toEqual(['SIGINT']);
  expect(p.exits).toEqual([0]);
  // Registered once: a repeat of the first signal has no listener left.
  expect(p.listeners('SIGINT')).toBe(0);
});

test('run() starts the same shutdown a signal would, once', async () => {
  const p = fakeProcess();
  let runs = 0;
  const shutdown = onShutdown([() => runs++], { signals: p.signals, exit: p.exit });
  const a = shutdown.run('SIGTERM');
  const b = shutdown.run('SIGINT');
  expect(b).toBe(a);
  p.emit('SIGTERM');
  await a;
  expect(runs).toBe(1);
  expect(p.exits).toEqual([0]);
});

test('a failing step is reported, the later steps still run, and the exit code is 1', async () => {
  const p = fakeProcess();
  const seen: string[] = [];
  const errors: string[] = [];
  onShutdown(
    [
      () => {
        throw new Error('loop would not stop');
      },
      () => Promise.reject(new Error('lease not released')),
      () => seen.push('closed'),
    ],
    { signals: p.signals, exit: p.exit, onError: (err) => errors.push((err as Error).message) },
  );
  p.emit('SIGINT');
  await p.done;
  expect(errors).toEqual(['loop would not stop', 'lease not released']);
  expect(seen).toEqual(['closed']);
  expect(p.exits).toEqual([1]);
});

test('shutdownSignal aborts on the first signal, with its name as the reason', () => {
  const p = fakeProcess();
  const signal = shutdownSignal({ signals: p.signals });
  expect(signal.aborted).toBe(false);
  p.emit('SIGINT');
  expect(signal.aborted).toBe(true);
  expect(signal.reason).toBe('SIGINT');
  p.emit('SIGTERM');
  expect(signal.reason).toBe('SIGINT');
});
