// Loading cluster credentials (--kubeconfig, else KUBECONFIG / ~/.kube/config, else in-cluster)
// and making API clients whose every request has a deadline.
import { KubeConfig, ServerConfiguration, createConfiguration, type Configuration, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `no Kubernetes cluster configured${file ? ` in ${file}` : ''}: pass --kubeconfig, set KUBECONFIG, or run in a pod with a ServiceAccount`,
    );
  }
  return kc;
}

/** Default deadline of one API request (not of watches, which are long by design). */
export const API_TIMEOUT_MS = 15_000;

/**
 * `kc.makeApiClient(Api)`, with every request aborted after `timeoutMs`. Without a deadline, a
 * request caught on a connection that an API server left half-open while it shut down never
 * settles, and whatever awaits it (a reconcile, a Lease renewal) waits with it forever.
 */
export function apiClient<T>(kc: KubeConfig, Api: new (config: Configuration) => T, timeoutMs = API_TIMEOUT_MS): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no Kubernetes cluster configured in the kubeconfig (no current context)');
  const deadline = {
    pre: async (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return ctx;
    },
    post: async (res: ResponseContext) => res,
  };
  return new Api(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: kc }, promiseMiddleware: [deadline] }));
}

/** HTTP status of a client-node ApiException, if it is one. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The message of a failed API call: the Status message of the body when there is one. */
export function apiErrorMessage(err: unknown): string {
  const e = err as { body?: unknown; message?: string; name?: string };
  if (e?.name === 'AbortError') return 'no answer from the API server before the request deadline (the request was aborted)';
  let body = e?.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return text.trim() || String(e?.message ?? err);
    }
  }
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && m ? m : String(e?.message ?? err);
}
