// Informers that survive watch expiry and API server restarts: on error they wait, relist and
// carry on. The cache stays readable meanwhile (it holds the last state seen).
import { KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface ResilientInformer<T extends KubernetesObject> {
  informer: ListWatch<T>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  /**
   * True from a successful list, or a watch established again, until the next list or watch
   * failure: while false, the cache holds the last state seen and may be missing changes.
   */
  healthy(): boolean;
  stop(): Promise<void>;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Delay before restarting after an error; doubles up to 30 s while errors repeat. */
  retryMs?: number;
  onError?: (err: unknown, retryInMs: number) => void;
  /** The watch is established again after an error (resumed, or listed afresh). */
  onRecovered?: () => void;
}

export function startInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  opts: InformerOptions = {},
): ResilientInformer<T> {
  const base = opts.retryMs ?? 1000;
  let delay = base;
  let healthy = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  // ListWatch reports list failures through 'error' and still resolves start(), so "synced" is
  // marked by a list that succeeded, not by start().
  const listAndMark = async () => {
    const result = await list();
    delay = base;
    // ListWatch files the items right after this returns; count as healthy from then on.
    setImmediate(() => {
      healthy = true;
      markSynced();
    });
    return result;
  };
  const informer = new ListWatch<T>(path, new Watch(kc), listAndMark, false, opts.labelSelector, opts.fieldSelector);

  let failures = 0;
  // start() settles once the watch is established or has failed (a failure is reported through
  // 'error', not by rejecting). Resuming from the last resourceVersion lists nothing, so an
  // established watch without a failure since is what makes the cache healthy again.
  const begin = () => {
    if (stopped) return;
    const before = failures;
    informer.start().then(() => {
      if (failures !== before || stopped) return;
      healthy = true;
      delay = base;
      if (failures > 0) opts.onRecovered?.();
    }, retry);
  };
  const retry = (err: unknown) => {
    if (stopped) return;
    failures++;
    healthy = false;
    opts.onError?.(err, delay);
    clearTimeout(timer);
    timer = setTimeout(begin, delay);
    delay = Math.min(delay * 2, 30_000);
  };
  informer.on('error', retry);
  begin();
  return {
    informer,
    synced,
    healthy: () => healthy && !stopped,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
