// The work queue on fake timers: debounce, one run at a time per item, coalescing, rounds, stop.
import { jest } from '@jest/globals';
import { createWorkQueue, type WorkQueue } from '../../../webhook/src/controller/queue.js';

interface Run {
  item: string;
  probe: boolean;
  at: number;
}

interface Harness {
  queue: WorkQueue<string>;
  /** Runs in the order they started, with the fake clock's time. */
  started: Run[];
  finished: string[];
  errors: Array<{ item: string; message: string }>;
  /** Most runs of one item that were in progress at once. */
  maxOverlap: Map<string, number>;
  /** Lets the oldest held run of `item` finish (or throw `err`). */
  release(item: string, err?: Error): void;
  /** Items of the round. */
  roundItems: string[];
}

/** `hold`: runs wait for release(); otherwise they end at once. */
function setUp(o: { intervalMs?: number; hold?: boolean } = {}): Harness {
  const started: Run[] = [];
  const finished: string[] = [];
  const errors: Array<{ item: string; message: string }> = [];
  const active = new Map<string, number>();
  const maxOverlap = new Map<string, number>();
  const held = new Map<string, Array<(err?: Error) => void>>();
  const roundItems: string[] = [];
  const queue = createWorkQueue<string>({
    keyOf: (item) => item,
    async run(item, probe) {
      started.push({ item, probe, at: Date.now() });
      active.set(item, (active.get(item) ?? 0) + 1);
      maxOverlap.set(item, Math.max(maxOverlap.get(item) ?? 0, active.get(item)!));
      try {
        if (o.hold) {
          await new Promise<void>((resolve, reject) => {
            held.set(item, [...(held.get(item) ?? []), (err) => (err ? reject(err) : resolve())]);
          });
        }
      } finally {
        active.set(item, active.get(item)! - 1);
      }
      finished.push(item);
    },
    onError: (item, err) => errors.push({ item, message: (err as Error).message }),
    roundItems: () => roundItems,
    intervalMs: o.intervalMs ?? 0,
    idlePollMs: 10,
  });
  const release = (item: string, err?: Error) => {
    const waiting = held.get(item) ?? [];
    const next = waiting.shift();
    if (!next) throw new Error(`no held run of ${item}`);
    next(err);
  };
  return { queue, started, finished, errors, maxOverlap, release, roundItems };
}

const T0 = Date.parse('2025-11-26T10:00:00Z');
const flush = () => jest.advanceTimersByTimeAsync(0);

describe('work queue', () => {
  let h: Harness | undefined;
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    h?.queue.stop();
    h = undefined;
    jest.useRealTimers();
  });

  describe('debounce', () => {
    it('gathers a burst of schedules into one run, due at the first one plus its delay', async () => {
      h = setUp();
      h.queue.schedule('a', 100);
      await jest.advanceTimersByTimeAsync(30);
      h.queue.schedule('a', 100); // due later than the one armed: no change
      await jest.advanceTimersByTimeAsync(30);
      h.queue.schedule('a', 100);
      await jest.advanceTimersByTimeAsync(39);
      expect(h.started).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.started).toEqual([{ item: 'a', probe: false, at: T0 + 100 }]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.started).toHaveLength(1);
    });

    it('a schedule due sooner replaces the one armed', async () => {
      h = setUp();
      h.queue.schedule('a', 100);
      await jest.advanceTimersByTimeAsync(10);
      h.queue.schedule('a', 0);
      await flush();
      expect(h.started).toEqual([{ item: 'a', probe: false, at: T0 + 10 }]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.started).toHaveLength(1);
    });

    it('debounces each item on its own', async () => {
      h = setUp();
      h.queue.schedule('a', 50);
      h.queue.schedule('b', 20);
      await jest.advanceTimersByTimeAsync(100);
      expect(h.started).toEqual([
        { item: 'b', probe: false, at: T0 + 20 },
        { item: 'a', probe: false, at: T0 + 50 },
      ]);
    });

    it('forget cancels the armed timer', async () => {
      h = setUp();
      h.queue.schedule('a', 50);
      h.queue.forget('a');
      await jest.advanceTimersByTimeAsync(100);
      expect(h.started).toEqual([]);
    });
  });

  describe('one run at a time per item', () => {
    it('queues a run behind the one in progress, and coalesces further ones into it', async () => {
      h = setUp({ hold: true });
      const first = h.queue.enqueue('a', false);
      await flush();
      const second = h.queue.enqueue('a', false);
      const third = h.queue.enqueue('a', true); // coalesced into the second; probe carries over
      expect(third).toBe(second);
      await flush();
      expect(h.started).toEqual([{ item: 'a', probe: false, at: T0 }]);

      h.release('a');
      await first;
      await flush();
      expect(h.started).toEqual([
        { item: 'a', probe: false, at: T0 },
        { item: 'a', probe: true, at: T0 },
      ]);
      h.release('a');
      await second;
      expect(h.finished).toEqual(['a', 'a']);
      expect(h.maxOverlap.get('a')).toBe(1);
    });

    it('runs different items in parallel', async () => {
      h = setUp({ hold: true });
      void h.queue.enqueue('a', false);
      void h.queue.enqueue('b', false);
      await flush();
      expect(h.started.map((r) => r.item)).toEqual(['a', 'b']);
      expect(h.finished).toEqual([]);
      h.release('b');
      h.release('a');
      await flush();
      expect(h.finished).toEqual(['b', 'a']);
    });

    it('a debounce timer firing during a run queues one run behind it', async () => {
      h = setUp({ hold: true });
      void h.queue.enqueue('a', true);
      await flush();
      h.queue.schedule('a', 10);
      await jest.advanceTimersByTimeAsync(10);
      expect(h.started).toHaveLength(1);
      h.release('a');
      await flush();
      expect(h.started).toEqual([
        { item: 'a', probe: true, at: T0 },
        { item: 'a', probe: false, at: T0 + 10 },
      ]);
      expect(h.maxOverlap.get('a')).toBe(1);
    });

    it('a run that throws goes to onError, and the item runs again afterwards', async () => {
      h = setUp({ hold: true });
      const failing = h.queue.enqueue('a', false);
      await flush();
      h.release('a', new Error('boom'));
      await expect(failing).resolves.toBeUndefined();
      expect(h.errors).toEqual([{ item: 'a', message: 'boom' }]);
      void h.queue.enqueue('a', false);
      await flush();
      h.release('a');
      await flush();
      expect(h.finished).toEqual(['a']);
      expect(h.errors).toHaveLength(1);
    });
  });

  describe('rounds', () => {
    it('start runs a first round with probe, waiting for it, then one every interval', async () => {
      h = setUp({ intervalMs: 1000 });
      h.roundItems.push('a', 'b');
      await h.queue.start();
      expect(h.started).toEqual([
        { item: 'a', probe: true, at: T0 },
        { item: 'b', probe: true, at: T0 },
      ]);
      expect(h.finished).toEqual(['a', 'b']);
      await jest.advanceTimersByTimeAsync(999);
      expect(h.started).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.started.slice(2)).toEqual([
        { item: 'a', probe: true, at: T0 + 1000 },
        { item: 'b', probe: true, at: T0 + 1000 },
      ]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(h.started.map((r) => r.at)).toEqual([T0, T0, T0 + 1000, T0 + 1000, T0 + 2000, T0 + 2000]);
    });

    it('the next round is armed only once the previous one ended', async () => {
      h = setUp({ intervalMs: 1000, hold: true });
      h.roundItems.push('a');
      const first = h.queue.start();
      await flush();
      h.release('a');
      await first;
      await jest.advanceTimersByTimeAsync(1000); // the second round starts and hangs
      expect(h.started.map((r) => r.at)).toEqual([T0, T0 + 1000]);
      await jest.advanceTimersByTimeAsync(5000);
      expect(h.started).toHaveLength(2);
      h.release('a'); // the second round ends
      await flush();
      await jest.advanceTimersByTimeAsync(999);
      expect(h.started).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.started.map((r) => r.at)).toEqual([T0, T0 + 1000, T0 + 7000]);
    });

    it('intervalMs 0 arms no round timer; round() runs one on demand', async () => {
      h = setUp({ intervalMs: 0 });
      h.roundItems.push('a');
      await h.queue.start();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(h.started).toEqual([{ item: 'a', probe: true, at: T0 }]);
      await h.queue.round();
      expect(h.started).toHaveLength(2);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('a round coalesces with a run queued without probe and gives it probe', async () => {
      h = setUp({ hold: true });
      h.roundItems.push('a');
      void h.queue.enqueue('a', false);
      await flush();
      void h.queue.enqueue('a', false);
      const round = h.queue.round();
      h.release('a');
      await flush();
      h.release('a');
      await round;
      expect(h.started.map((r) => r.probe)).toEqual([false, true]);
    });
  });

  describe('stop, drained and idle', () => {
    it('stop skips queued runs, clears the timers and ignores new schedules; drained waits for the run in flight', async () => {
      h = setUp({ intervalMs: 1000, hold: true });
      void h.queue.enqueue('a', false);
      await flush();
      void h.queue.enqueue('a', false); // queued behind
      h.queue.schedule('b', 10);
      h.queue.stop();
      h.queue.schedule('c', 0);
      expect(h.queue.stopped).toBe(true);
      let drained = false;
      const done = h.queue.drained().then(() => (drained = true));
      await jest.advanceTimersByTimeAsync(5000);
      expect(drained).toBe(false);
      h.release('a');
      await done;
      expect(h.started).toEqual([{ item: 'a', probe: false, at: T0 }]);
      expect(h.finished).toEqual(['a']);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('idle resolves only when no run is scheduled, queued or running', async () => {
      h = setUp();
      h.queue.schedule('a', 200);
      let idle = false;
      const done = h.queue.idle().then(() => (idle = true));
      await jest.advanceTimersByTimeAsync(199);
      expect(idle).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(h.finished).toEqual(['a']);
      await jest.advanceTimersByTimeAsync(10); // idle looks again after idlePollMs
      await done;
      expect(idle).toBe(true);
    });
  });
});
