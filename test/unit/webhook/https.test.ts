// HTTPS serving: TLS 1.2 minimum, and a shutdown that lets a review in flight finish.
import https from 'node:https';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { generateServingCertificate } from '../../../webhook/src/webhook/tls/self-signed.js';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import { startHttps, webhookLimits } from '../../../webhook/src/webhook/https.js';

const log = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) as never });

test('refuses TLS 1.1 and finishes a request in flight on close', async () => {
  const pems = await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = await startHttps(
    (_req, res) => {
      void gate.then(() => res.end('done'));
    },
    { port: 0, bind: '127.0.0.1', pair: { cert: pems.cert, key: pems.key }, log, limits: webhookLimits(35_000, 1024) },
  );
  const port = Number(new URL(server.url).port);

  const old = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: pems.caCert, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve('connected'));
    s.on('error', (e) => resolve(e.message));
  });
  // Node's own TLS 1.1 is disabled at build level, so the client may fail before the server
  // answers; either way the handshake never completes, for a reason that names the protocol.
  expect(old).toMatch(/protocol|version/i);
  const modern = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: pems.caCert, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }, () => {
      resolve(s.getProtocol() ?? 'unknown');
      s.destroy();
    });
    s.on('error', (e) => resolve(e.message));
  });
  expect(modern).toBe('TLSv1.2');

  const inFlight = new Promise<string>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, ca: pems.caCert, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 100));
  let closed = false;
  const closing = server.close(5000).then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  expect(closed).toBe(false);
  release();
  expect(await inFlight).toBe('done');
  await closing;
  expect(closed).toBe(true);
});
