// HTTPS for the webhook: TLS 1.2 or newer, certificates from --cert-dir picked up on rotation
// without a restart, limits on slow and numerous clients, and a shutdown that finishes the reviews
// in flight before closing.
import https from 'node:https';
import type { RequestListener } from 'node:http';
import { watchCertDir, type CertKeyPair, type CertDirWatcher } from './tls/cert-dir.js';
import { listen } from '../runtime/listen.js';
import type { Logger } from '../runtime/log.js';
import { capConnections, serverOptions, type ServerLimits } from '../runtime/server-limits.js';

/**
 * The API server sends a review in one go and gives up after the webhook's timeoutSeconds (30 s
 * at most); a request still arriving after `requestTimeoutMs` is not one it waits for.
 */
export function webhookLimits(requestTimeoutMs: number, maxConnections: number): ServerLimits {
  return {
    headersTimeoutMs: Math.min(10_000, requestTimeoutMs),
    requestTimeoutMs,
    // The API server keeps connections alive between reviews; keep them a little longer than it does.
    keepAliveTimeoutMs: 65_000,
    maxConnections,
    reason: 'the API servers keep a few keep-alive connections each (--max-connections)',
  };
}

export interface HttpsOptions {
  port: number;
  bind?: string;
  pair: CertKeyPair;
  /** Watch this directory for rotated tls.crt/tls.key. */
  certDir?: string;
  log: Logger;
  limits: ServerLimits;
}

export interface RunningHttps {
  server: https.Server;
  url: string;
  /** Stop accepting, finish in-flight requests (up to `graceMs`), then close idle sockets. */
  close(graceMs?: number): Promise<void>;
}

const TLS = { minVersion: 'TLSv1.2' } as const;

export async function startHttps(listener: RequestListener, opts: HttpsOptions): Promise<RunningHttps> {
  const server = https.createServer(
    { ...TLS, cert: opts.pair.cert, key: opts.pair.key, ...serverOptions(opts.limits), handshakeTimeout: opts.limits.headersTimeoutMs },
    listener,
  );
  capConnections(server, opts.limits, (d) => opts.log.warn(d, `connections dropped at accept: ${d.maxConnections} already open; ${d.reason}`));
  let watcher: CertDirWatcher | undefined;
  if (opts.certDir) {
    watcher = watchCertDir(opts.certDir, {
      initial: opts.pair,
      onChange: (pair) => {
        server.setSecureContext({ ...TLS, cert: pair.cert, key: pair.key });
        opts.log.info({ certDir: opts.certDir }, 'serving certificate rotated; new connections use it');
      },
      onError: (err) => opts.log.error({ certDir: opts.certDir, err: err.message }, 'rotated certificate is unusable; still serving the previous one'),
    });
  }
  const listening = await listen(server, { port: opts.port, bind: opts.bind, scheme: 'https', name: 'webhook', flag: 'port' }).catch((err: unknown) => {
    watcher?.stop();
    throw err;
  });
  return {
    server,
    url: listening.url,
    close(graceMs = 10_000) {
      watcher?.stop();
      return listening.close(graceMs);
    },
  };
}
