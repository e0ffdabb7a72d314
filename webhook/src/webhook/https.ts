// HTTPS for the webhook: TLS 1.2 or newer, certificates from --cert-dir picked up on rotation
// without a restart, and a shutdown that finishes the reviews in flight before closing.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { watchCertDir, type CertKeyPair, type CertDirWatcher } from './tls/cert-dir.js';
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`webhook cannot listen on ${opts.bind ?? '*'}:${opts.port} (${err.code ?? err.message}); free the port or pass --port`)),
    );
    server.listen({ port: opts.port, host: opts.bind }, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `https://${host}:${a.port}`,
    close(graceMs = 10_000) {
      watcher?.stop();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
