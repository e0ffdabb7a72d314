// Duration flags of every command: seconds out, a usage error (exit 2) naming the command and flag.
import { UsageError, durationFlag, exitFor } from '../../../webhook/src/runtime/flags.js';

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}

test('reads Go-style durations and bare seconds', () => {
  expect(durationFlag('rainbow webhook', 'pod-timeout', '2s')).toBe(2);
  expect(durationFlag('rainbow controller', 'interval', '1m30s')).toBe(90);
  expect(durationFlag('rainbow status', 'interval', '250ms')).toBe(0.25);
  expect(durationFlag('rainbow webhook', 'guard-budget', '8')).toBe(8);
});

test('a bad value names the command as typed and the flag, then what is wrong', () => {
  expect(usageMessage(() => durationFlag('rainbow controller', 'interval', 'x'))).toBe(
    'rainbow controller: --interval: invalid duration "x": unexpected "x" (write it like 60s, 5m, 48h or 1h30m)',
  );
  expect(usageMessage(() => durationFlag('kubectl rainbow status', 'pod-timeout', '-1s'))).toBe(
    'kubectl rainbow status: --pod-timeout: invalid duration "-1s": it is negative (write it like 60s, 5m, 48h or 1h30m)',
  );
  expect(usageMessage(() => durationFlag('rainbow webhook', 'shutdown-grace', ''))).toBe(
    'rainbow webhook: --shutdown-grace: invalid duration "": it is empty (write it like 60s, 5m, 48h or 1h30m)',
  );
});

test('the CLI ends such an error with 2 and the message as it is', () => {
  const errs: string[] = [];
  let caught: unknown;
  try {
    durationFlag('rainbow controller', 'interval', '10 parsecs');
  } catch (err) {
    caught = err;
  }
  expect(exitFor('rainbow', caught, { stdout: () => undefined, stderr: (s) => errs.push(s) })).toBe(2);
  expect(errs).toEqual(['rainbow controller: --interval: invalid duration "10 parsecs": missing unit after 10 (write it like 60s, 5m, 48h or 1h30m)']);
});
