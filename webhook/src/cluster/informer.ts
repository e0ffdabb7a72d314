// Informers that survive watch expiry and API server restarts: on error they wait, relist and
// carry on. The cache stays readable meanwhile (it holds the last state seen).
import { KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface ResilientInformer<T extends KubernetesObject> {
  informer: ListWatch<T>;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Delay before restarting after an error; doubles up to 30 s while errors repeat. */
  retryMs?: number;
  onError?: (err: unknown, retryInMs: number) => void;
}

export function startInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  opts: InformerOptions = {},
): ResilientInformer<T> {
  const base = opts.retryMs ?? 1000;
  let delay = base;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  // ListWatch reports list failures through 'error' and still resolves start(), so "synced" is
  // marked by a list that succeeded, not by start().
  const listAndMark = async () => {
    const result = await list();
    delay = base;
    markSynced();
    return result;
  };
  const informer = new ListWatch<T>(path, new Watch(kc), listAndMark, false, opts.labelSelector, opts.fieldSelector);

  const begin = () => {
    if (!stopped) informer.start().catch(retry);
  };
  const retry = (err: unknown) => {
    if (stopped) return;
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
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
