// Raw JSON requests to the local API server for the scale benchmark: a keep-alive agent with a
// bounded number of requests in flight, the objects exactly as the API server serves them, and
// the API server's own request counters.
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeconfigPath } from '../../cluster/paths.js';
import { sumMetric } from '../../cluster/metrics-text.js';
import { createLimiter, type Limiter } from './pool.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  get<T = unknown>(path: string): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
  mergePatch<T = unknown>(path: string, body: unknown): Promise<T>;
  del(path: string, body?: unknown): Promise<void>;
  /** Sum of a counter of the API server's /metrics whose labels contain `labels`. */
  metric(name: string, labels: string): Promise<number>;
  limiter: Limiter;
  close(): void;
}

export async function benchApi(inFlight = 50): Promise<Api> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const server = kc.getCurrentCluster()!.server;
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight, ca: opts.ca, cert: opts.cert, key: opts.key });
  const limiter = createLimiter(inFlight);
  const raw = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        `${server}${path}`,
        { method, agent, headers: { accept: 'application/json', ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}) }, timeout: 120_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 120 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  const request = async <T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> =>
    limiter.run(async () => {
      for (let attempt = 1; ; attempt++) {
        let r: { status: number; text: string };
        try {
          r = await raw(method, path, body, contentType);
        } catch (err) {
          // A keep-alive socket the forward closed under us: one retry.
          if (attempt < 3 && /ECONNRESET|socket hang up|EPIPE/.test((err as Error).message)) continue;
          throw err;
        }
        if (r.status === 429 && attempt < 10) {
          await new Promise((res) => setTimeout(res, 200 * attempt));
          continue;
        }
        if (r.status < 200 || r.status > 299) throw new ApiError(r.status, `${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
        return (r.text ? JSON.parse(r.text) : undefined) as T;
      }
    });
  return {
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    mergePatch: (path, body) => request('PATCH', path, body, 'application/merge-patch+json'),
    del: async (path, body) => {
      try {
        await request('DELETE', path, body);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
    },
    async metric(name, labels) {
      const r = await limiter.run(() => raw('GET', '/metrics'));
      if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`);
      return sumMetric(r.text, name, labels);
    },
    limiter,
    close: () => agent.destroy(),
  };
}
