// When a failed action is retried without waiting for a watch event or the next drain check.
import { retryDelayAfterFailure } from '../../../webhook/src/controller/reconcile.js';

describe('retryDelayAfterFailure', () => {
  const timing = { debounceMs: 100, intervalMs: 10_000 };

  it('a Service changed under a promotion (409) is retried after the fallback delay', () => {
    expect(retryDelayAfterFailure('promote', 409, timing)).toBe(1000);
    expect(retryDelayAfterFailure('clear-pending', 409, timing)).toBe(1000);
    expect(retryDelayAfterFailure('promote', 409, { debounceMs: 2500, intervalMs: 10_000 })).toBe(2500);
  });

  it('other failures of the routing, the drain stamp and the restore are retried soon, at most one interval later', () => {
    for (const action of ['promote', 'clear-pending', 'stamp-drain-started', 'restore-replicas'] as const) {
      expect(retryDelayAfterFailure(action, 500, timing)).toBe(5000);
      expect(retryDelayAfterFailure(action, undefined, { debounceMs: 100, intervalMs: 2000 })).toBe(2000);
      expect(retryDelayAfterFailure(action, 403, { debounceMs: 100, intervalMs: 0 })).toBe(5000);
    }
    expect(retryDelayAfterFailure('stamp-drain-started', 409, timing)).toBe(5000);
  });

  it('the drain round decides again for the others', () => {
    for (const action of ['clear-drain-started', 'delete', 'set-deletion-cost', 'shrink'] as const) {
      expect(retryDelayAfterFailure(action, 500, timing)).toBeUndefined();
      expect(retryDelayAfterFailure(action, 409, timing)).toBeUndefined();
    }
  });
});
