// How every role stops: on the first SIGTERM or SIGINT, say so, run its steps in order, exit.
// Nothing here imports node:http, so the reporter can load it (see reporter/server.ts).

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

export const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];

/** Where the signals come from: `process`, or an emitter in tests. */
export interface SignalSource {
  once(event: ShutdownSignal, listener: () => void): unknown;
}

/** One step of a shutdown; a step that returns a promise is awaited before the next starts. */
export type ShutdownStep = () => unknown;

export interface ShutdownOptions {
  /** Told which signal started the shutdown, before the first step. */
  log?: (signal: ShutdownSignal) => void;
  /** A step that threw or rejected; the remaining steps still run and the exit code is 1. */
  onError?: (err: unknown) => void;
  /** Default: process. */
  signals?: SignalSource;
  /** Default: process.exit. */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /** Starts the shutdown as `signal` would; every call after the first returns the first one's promise. */
  run(signal: ShutdownSignal): Promise<void>;
}

/**
 * Runs `steps` once, on the first SIGTERM or SIGINT, then exits 0 (1 if a step failed). Each
 * listener is registered with `once`: a repeat of the same signal gets Node's default and ends
 * the process at once, the other signal is ignored while the steps run.
 */
export function onShutdown(steps: readonly ShutdownStep[], opts: ShutdownOptions = {}): Shutdown {
  const signals = opts.signals ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const onError = opts.onError ?? ((err: unknown) => process.stderr.write(`shutdown step failed: ${err instanceof Error ? err.message : String(err)}\n`));
  let running: Promise<void> | undefined;
  const run = (signal: ShutdownSignal): Promise<void> =>
    (running ??= (async () => {
      let code = 0;
      for (const step of [() => opts.log?.(signal), ...steps]) {
        try {
          await step();
        } catch (err) {
          code = 1;
          onError(err);
        }
      }
      exit(code);
    })());
  for (const signal of SHUTDOWN_SIGNALS) signals.once(signal, () => void run(signal));
  return { run };
}

/** An AbortSignal aborted (reason: the signal's name) on the first SIGTERM or SIGINT, for loops that stop on their own. */
export function shutdownSignal(opts: { signals?: SignalSource } = {}): AbortSignal {
  const signals = opts.signals ?? process;
  const controller = new AbortController();
  for (const signal of SHUTDOWN_SIGNALS) signals.once(signal, () => controller.abort(signal));
  return controller.signal;
}
