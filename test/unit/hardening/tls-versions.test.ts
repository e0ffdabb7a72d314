// TLS versions of the webhook's HTTPS server. test/unit/webhook/https.test.ts shows a TLS 1.1
// handshake fails; here the client is one that demonstrably *can* speak TLS 1.1 (security level 0,
// checked against a permissive control server), so the refusal is the webhook's doing, and
// TLS 1.2 and 1.3 are accepted and negotiated as such.
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { createLogger } from '../../../webhook/src/runtime/log.js';
import { startHttps, webhookLimits, type RunningHttps } from '../../../webhook/src/webhook/https.js';
import { generateServingCertificate } from '../../../webhook/src/webhook/tls/self-signed.js';
import { closeServer, listen } from './support.js';

const log = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) as never });
let pems: Awaited<ReturnType<typeof generateServingCertificate>>;
let webhook: RunningHttps;
let port = 0;

beforeAll(async () => {
  pems = await generateServingCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  webhook = await startHttps((_req, res) => res.end('ok'), { port: 0, bind: '127.0.0.1', pair: { cert: pems.cert, key: pems.key }, log, limits: webhookLimits(35_000, 1024) });
  port = Number(new URL(webhook.url).port);
}, 30_000);
afterAll(async () => {
  await webhook.close(1000);
});

function handshake(p: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, ca: pems.caCert, servername: 'localhost', ...opts }, () => {
      const v = s.getProtocol() ?? 'unknown';
      s.end();
      resolve(v);
    });
    s.setTimeout(5_000, () => s.destroy(new Error('handshake timeout')));
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

const legacyClient: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };

test('the legacy client can speak TLS 1.1 (control), and the webhook refuses it', async () => {
  const control = tls.createServer({ cert: pems.cert, key: pems.key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
  const controlPort = await listen(control);
  try {
    expect(await handshake(controlPort, legacyClient)).toBe('TLSv1.1');
  } finally {
    await closeServer(control);
  }
  expect(await handshake(port, legacyClient)).toMatch(/^error: /);
  expect(await handshake(port, { ...legacyClient, maxVersion: 'TLSv1' })).toMatch(/^error: /);
});

test('TLS 1.2 and TLS 1.3 are accepted', async () => {
  expect(await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
  expect(await handshake(port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).toBe('TLSv1.3');
  expect(await handshake(port, {})).toBe('TLSv1.3');
});
