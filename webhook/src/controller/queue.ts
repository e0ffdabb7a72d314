// The controller's work queue: runs of one item (an app) are serialised and coalesced, runs of
// different items proceed in parallel; a debounce timer per item gathers a burst of changes into
// one run, and a round timer runs every item now and then. It knows nothing of Kubernetes.

export interface WorkQueueOptions<T> {
  /** Runs of items with one key never overlap. */
  keyOf(item: T): string;
  /** One run; `probe` is true when a round asked for it (or a coalesced run was). */
  run(item: T, probe: boolean): Promise<void>;
  /** A run threw; the queue goes on. */
  onError(item: T, err: unknown): void;
  /** The items a round runs. */
  roundItems(): T[];
  /** Period of rounds; 0 arms no round timer. */
  intervalMs: number;
  /** How often idle() looks again while timers are armed. */
  idlePollMs: number;
}

export interface WorkQueue<T> {
  /** Queue a run behind the item's runs; coalesces with a run queued and not started yet. */
  enqueue(item: T, probe: boolean): Promise<void>;
  /** A run without probe in `delayMs`, unless one is already due as soon or sooner. */
  schedule(item: T, delayMs: number): void;
  /** Cancels the item's timer and drops its queue entry (the runs in flight finish). */
  forget(item: T): void;
  /** Runs every round item with probe, waiting for them; a round in progress is tracked by idle() and drained(). */
  round(): Promise<void>;
  /** A first round now, then one every intervalMs, each after the previous one ended. */
  start(): Promise<void>;
  /** No run starts any more (queued ones are skipped), and every timer is cleared. */
  stop(): void;
  readonly stopped: boolean;
  /** Resolves when the round and the runs in flight have ended. */
  drained(): Promise<void>;
  /** Resolves when no run is scheduled, queued or running and no round is in progress. */
  idle(): Promise<void>;
}

interface Entry {
  chain: Promise<void>;
  /** A run queued behind the chain and not started yet. */
  queued?: { probe: boolean };
  timer?: NodeJS.Timeout;
  timerDue?: number;
}

export function createWorkQueue<T>(opts: WorkQueueOptions<T>): WorkQueue<T> {
  const entries = new Map<string, Entry>();
  let stopped = false;
  let roundTimer: NodeJS.Timeout | undefined;
  let inRound: Promise<void> | undefined;

  const entryOf = (item: T): Entry => {
    const k = opts.keyOf(item);
    let e = entries.get(k);
    if (!e) {
      e = { chain: Promise.resolve() };
      entries.set(k, e);
    }
    return e;
  };

  const enqueue = (item: T, probe: boolean): Promise<void> => {
    const e = entryOf(item);
    if (e.queued) {
      e.queued.probe ||= probe;
      return e.chain;
    }
    const q = { probe };
    e.queued = q;
    e.chain = e.chain.then(async () => {
      e.queued = undefined;
      if (stopped) return;
      try {
        await opts.run(item, q.probe);
      } catch (err) {
        opts.onError(item, err);
      }
    });
    return e.chain;
  };

  const round = (): Promise<void> => {
    const r = Promise.all(opts.roundItems().map((item) => enqueue(item, true)))
      .then(() => undefined)
      .finally(() => {
        if (inRound === r) inRound = undefined;
      });
    inRound = r;
    return r;
  };

  const armRound = (): void => {
    if (stopped || opts.intervalMs <= 0) return;
    roundTimer = setTimeout(() => {
      void round().finally(armRound);
    }, opts.intervalMs);
  };

  const chains = () => Promise.all([...entries.values()].map((e) => e.chain));

  return {
    enqueue,
    schedule(item, delayMs) {
      if (stopped) return;
      const e = entryOf(item);
      const due = Date.now() + delayMs;
      if (e.timer && e.timerDue !== undefined && e.timerDue <= due) return;
      clearTimeout(e.timer);
      e.timerDue = due;
      e.timer = setTimeout(() => {
        e.timer = undefined;
        e.timerDue = undefined;
        void enqueue(item, false);
      }, delayMs);
    },
    forget(item) {
      const k = opts.keyOf(item);
      clearTimeout(entries.get(k)?.timer);
      entries.delete(k);
    },
    round,
    async start() {
      await round();
      armRound();
    },
    stop() {
      stopped = true;
      clearTimeout(roundTimer);
      for (const e of entries.values()) clearTimeout(e.timer);
    },
    get stopped() {
      return stopped;
    },
    async drained() {
      await inRound;
      await chains();
    },
    async idle() {
      for (;;) {
        await inRound;
        await chains();
        if (!inRound && [...entries.values()].every((e) => !e.timer && !e.queued)) return;
        await new Promise((resolve) => setTimeout(resolve, opts.idlePollMs));
      }
    },
  };
}
