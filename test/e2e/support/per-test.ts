// Per-test bookkeeping of the controller e2e tests: every process, poller and stream a test starts
// is stopped after that test, by PID, in reverse order; its namespace is removed once the webhook
// configurations are gone (stop() unregisters them), awaited in afterAll so that the next test
// starts at once. Call at a test file's top level.
import { testNamespace } from './cluster.js';
import { startController, watchDeletion, type ControllerProcess, type DeletionWatch } from './controller.js';
import { startWebhook, type RegisteredWebhook } from './webhook.js';

export function perTest(app: string) {
  const stops: Array<() => Promise<unknown>> = [];
  const removals: Array<Promise<void>> = [];
  let removeNs: (() => Promise<void>) | undefined;

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    if (removeNs) removals.push(removeNs());
    removeNs = undefined;
  });
  afterAll(async () => {
    await Promise.all(removals);
  });

  return {
    /** Runs `stop` after the current test. */
    afterTest(stop: () => Promise<unknown>): void {
      stops.push(stop);
    },
    async namespace(prefix: string): Promise<string> {
      const ns = await testNamespace(prefix);
      removeNs = ns.remove;
      return ns.name;
    },
    controller(ns: string, identity: string): ControllerProcess {
      const c = startController(ns, identity);
      stops.push(() => c.stop());
      return c;
    },
    async webhookIn(ns: string): Promise<RegisteredWebhook> {
      const w = await startWebhook(ns);
      stops.push(() => w.stop());
      return w;
    },
    deletionOf(ns: string, color: string): DeletionWatch {
      const w = watchDeletion(ns, `${app}-${color}`);
      stops.push(async () => w.stop());
      return w;
    },
  };
}
