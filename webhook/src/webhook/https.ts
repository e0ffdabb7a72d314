// HTTPS for the webhook: TLS 1.2 or newer, certificates from --cert-dir picked up on rotation
// without a restart, and a shutdown that finishes the reviews in flight before closing.
import https from 'node:https';
import type { RequestListener } from 'node:http';
import { watchCertDir, type CertKeyPair, type CertDirWatcher } from './tls/cert-dir.js';
import { listen } from '../runtime/listen.js';
import type { Logger } from '../runtime/log.js';

export interface HttpsOptions {
  port: number;
  bind?: string;
  pair: CertKeyPair;
  /** Watch this directory for rotated tls.crt/tls.key. */
  certDir?: string;
  log: Logger;
}

export interface RunningHttps {
  server: https.Server;
  url: string;
  /** Stop accepting, finish in-flight requests (up to `graceMs`), then close idle sockets. */
  close(graceMs?: number): Promise<void>;
}

const TLS = { minVersion: 'TLSv1.2' } as const;

export async function startHttps(listener: RequestListener, opts: HttpsOptions): Promise<RunningHttps> {
  const server = https.createServer({ ...TLS, cert: opts.pair.cert, key: opts.pair.key }, listener);
  // The API server keeps connections alive between reviews; keep them a little longer than it does.
  server.keepAliveTimeout = 65_000;
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
