// `rainbow webhook`: the HTTPS admission server (Service cutover, delete guard).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { apiErrorMessage, loadKubeConfig } from '../kube/client.js';
import { startCachedReads, type CachedReads } from './reads/cached-reads.js';
import { liveReads } from './reads/live-reads.js';
import { snapshotReader } from './reads/snapshots.js';
import { createLogger } from '../runtime/log.js';
import { createMetrics } from '../runtime/metrics.js';
import { cutoverHandler, deleteGuardHandler } from './handlers.js';
import { webhookApp } from './server.js';
import { startHttps, webhookLimits } from './https.js';
import { kubeWebhookConfigIO, parseInjectTargets, type InjectTargets } from './tls/ca-injector.js';
import { loadCertDir, type CertKeyPair } from './tls/cert-dir.js';
import { startTlsBootstrap, type TlsBootstrap } from './tls/bootstrap.js';
import { kubeSecretIO } from './tls/secret-store.js';
import { CA_FILE, CERT_FILE, KEY_FILE, generateServingCertificate, writeCertificateFiles } from './tls/self-signed.js';
import { UsageError, bindAddress, durationFlag, parseFlags, portNumber, positiveInteger } from '../runtime/flags.js';
import { onShutdown } from '../runtime/shutdown.js';

const HELP = `usage: rainbow webhook [flags]

  --port N               HTTPS port (default 8443)
  --bind ADDRESS         listen address (default: env RAINBOW_BIND_ADDRESS, else all interfaces)
  --cert-dir DIR         serve tls.crt/tls.key from DIR; rotated files are picked up without a restart
  --self-signed          make a CA and serving certificate (written to --cert-dir when given and
                         no usable certificate is there yet; otherwise kept in memory)
  --dns-names a,b        DNS names of the self-signed certificate (default localhost); with
                         --tls-secret, the DNS SANs the Secret's certificate must carry
  --tls-secret NAME      bootstrap TLS in the Secret NAME (type kubernetes.io/tls: tls.crt, tls.key,
                         ca.crt): reuse it when valid for --dns-names, else make a CA and a serving
                         certificate (selfsigned) and write it; replicas agree on one. Re-checked
                         every --tls-check-interval and when --cert-dir (the same Secret, mounted) changes
  --tls-secret-namespace NS  namespace of --tls-secret (default: env POD_NAMESPACE)
  --inject-ca KIND/NAME  with --tls-secret: put the CA into clientConfig.caBundle of every entry of
                         mutating/NAME (MutatingWebhookConfiguration) or validating/NAME
                         (ValidatingWebhookConfiguration); repeatable or comma-separated. The Secret
                         is owned by the first one (validating first): deleting it deletes the Secret
  --tls-validity-days N  validity of certificates made with --tls-secret (default 365)
  --tls-renew-before-days N  rotate the --tls-secret certificate this long before it expires (default 30)
  --tls-check-interval 5m  how often --tls-secret is checked again
  --ip-addresses a,b     IP addresses of the self-signed certificate (default: the bind address, else 127.0.0.1)
  --ca-bundle-out FILE   write the CA certificate (PEM) for the webhook configurations' caBundle
  --kubeconfig FILE      cluster credentials (default: KUBECONFIG, ~/.kube/config, then in-cluster)
  --reads cache|live     where reviews read Deployments, Services, Pods and Namespaces from: watch
                         caches (default; no API call per review once synced, live reads until
                         then) or live GET/LIST calls per review
  --on-unknown deny|allow  a pod that cannot be asked for its connections denies the delete (default deny)
  --pod-timeout 2s       timeout of one pod's /connections answer
  --guard-budget 8s      time for asking all pods of a color; keep it under the webhook's timeoutSeconds
  --concurrency 16       pods asked at once
  --shutdown-grace 10s   on SIGTERM, time given to reviews in flight
  --request-timeout 35s  a request not fully received by then gets 408 and its connection is closed
                         (headers: 10 s at most); keep it just over the webhooks' timeoutSeconds,
                         after which the API server has given up anyway
  --max-connections 1024 connections open at once; more are closed at accept, with a log line`;

const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

async function servingPair(flags: { 'cert-dir'?: string; 'self-signed'?: boolean; 'dns-names'?: string; 'ip-addresses'?: string }, bind: string | undefined) {
  const dir = flags['cert-dir'];
  const haveFiles = dir !== undefined && existsSync(path.join(dir, CERT_FILE)) && existsSync(path.join(dir, KEY_FILE));
  // The CA of certificates found in --cert-dir is known when ca.crt sits next to them.
  const caOf = async (d: string) => (existsSync(path.join(d, CA_FILE)) ? readFile(path.join(d, CA_FILE), 'utf8') : undefined);
  if (haveFiles && !flags['self-signed']) return { pair: await loadCertDir(dir!), caCert: await caOf(dir!) };
  if (haveFiles) {
    try {
      return { pair: await loadCertDir(dir!), caCert: await caOf(dir!) };
    } catch {
      /* unusable (e.g. expired): make new ones below */
    }
  }
  if (!flags['self-signed']) {
    throw new UsageError(`rainbow webhook: no certificate: pass --cert-dir DIR with ${CERT_FILE} and ${KEY_FILE}, or --self-signed`);
  }
  const dnsNames = list(flags['dns-names']);
  const ips = list(flags['ip-addresses']);
  const made = await generateServingCertificate({
    dnsNames: dnsNames.length ? dnsNames : ['localhost'],
    ipAddresses: ips.length ? ips : [bind && isIP(bind) ? bind : '127.0.0.1'],
  });
  if (dir) await writeCertificateFiles(dir, made);
  return { pair: { cert: made.cert, key: made.key }, caCert: made.caCert };
}

function positiveNumber(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`rainbow webhook: --${flag} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

interface TlsSecretSettings {
  namespace: string;
  name: string;
  dnsNames: string[];
  validityDays: number;
  renewBeforeDays: number;
  intervalMs: number;
  inject: InjectTargets;
}

/** --tls-secret and its companions, checked; undefined without --tls-secret. */
function tlsSecretFlags(flags: {
  'tls-secret'?: string;
  'tls-secret-namespace'?: string;
  'inject-ca'?: string[];
  'dns-names'?: string;
  'self-signed'?: boolean;
  'tls-validity-days'?: string;
  'tls-renew-before-days'?: string;
  'tls-check-interval'?: string;
}): TlsSecretSettings | undefined {
  const name = flags['tls-secret'];
  const companions = (['tls-secret-namespace', 'inject-ca', 'tls-validity-days', 'tls-renew-before-days', 'tls-check-interval'] as const).filter((f) => flags[f] !== undefined);
  if (!name) {
    if (companions.length > 0) throw new UsageError(`rainbow webhook: --${companions[0]} needs --tls-secret NAME`);
    return undefined;
  }
  if (flags['self-signed']) throw new UsageError('rainbow webhook: --tls-secret and --self-signed are two ways to get a certificate; pass one');
  const namespace = flags['tls-secret-namespace'] ?? process.env.POD_NAMESPACE;
  if (!namespace) throw new UsageError('rainbow webhook: --tls-secret needs a namespace: pass --tls-secret-namespace NS or set POD_NAMESPACE (the chart sets it from the downward API)');
  const dnsNames = list(flags['dns-names']);
  if (dnsNames.length === 0) throw new UsageError("rainbow webhook: --tls-secret needs --dns-names: the webhook Service's DNS names, e.g. rainbow-webhook.rainbow-system.svc");
  let inject: InjectTargets;
  try {
    inject = parseInjectTargets(flags['inject-ca'] ?? []);
  } catch (err) {
    throw new UsageError(`rainbow webhook: ${(err as Error).message}`);
  }
  const validityDays = positiveNumber('tls-validity-days', flags['tls-validity-days'], 365);
  const renewBeforeDays = positiveNumber('tls-renew-before-days', flags['tls-renew-before-days'], Math.min(30, validityDays / 3));
  if (renewBeforeDays >= validityDays) throw new UsageError(`rainbow webhook: --tls-renew-before-days (${renewBeforeDays}) must be less than --tls-validity-days (${validityDays})`);
  const intervalMs = durationFlag('rainbow webhook', 'tls-check-interval', flags['tls-check-interval'] ?? '5m') * 1000;
  if (intervalMs <= 0) throw new UsageError('rainbow webhook: --tls-check-interval must be longer than 0');
  return { namespace, name, dnsNames, validityDays, renewBeforeDays, intervalMs, inject };
}

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(
    'webhook',
    args,
    {
      port: { type: 'string' },
      bind: { type: 'string' },
      'cert-dir': { type: 'string' },
      'self-signed': { type: 'boolean' },
      'dns-names': { type: 'string' },
      'ip-addresses': { type: 'string' },
      'tls-secret': { type: 'string' },
      'tls-secret-namespace': { type: 'string' },
      'inject-ca': { type: 'string', multiple: true },
      'tls-validity-days': { type: 'string' },
      'tls-renew-before-days': { type: 'string' },
      'tls-check-interval': { type: 'string' },
      'ca-bundle-out': { type: 'string' },
      kubeconfig: { type: 'string' },
      'on-unknown': { type: 'string' },
      reads: { type: 'string' },
      'pod-timeout': { type: 'string' },
      'guard-budget': { type: 'string' },
      concurrency: { type: 'string' },
      'shutdown-grace': { type: 'string' },
      'request-timeout': { type: 'string' },
      'max-connections': { type: 'string' },
    },
    HELP,
  );
  const onUnknown = flags['on-unknown'] ?? 'deny';
  if (onUnknown !== 'deny' && onUnknown !== 'allow') throw new UsageError(`rainbow webhook: --on-unknown must be deny or allow, got ${JSON.stringify(onUnknown)}`);
  const readsFrom = flags.reads ?? 'cache';
  if (readsFrom !== 'cache' && readsFrom !== 'live') throw new UsageError(`rainbow webhook: --reads must be cache or live, got ${JSON.stringify(readsFrom)}`);
  const concurrency = positiveInteger('rainbow webhook', 'concurrency', flags.concurrency ?? '16');
  const podTimeoutMs = durationFlag('rainbow webhook', 'pod-timeout', flags['pod-timeout'] ?? '2s') * 1000;
  const budgetMs = durationFlag('rainbow webhook', 'guard-budget', flags['guard-budget'] ?? '8s') * 1000;
  const graceMs = durationFlag('rainbow webhook', 'shutdown-grace', flags['shutdown-grace'] ?? '10s') * 1000;
  const port = portNumber('webhook', 'port', flags.port ?? '8443');
  const bind = bindAddress(flags.bind);
  const limits = webhookLimits(
    durationFlag('rainbow webhook', 'request-timeout', flags['request-timeout'] ?? '35s') * 1000,
    positiveInteger('rainbow webhook', 'max-connections', flags['max-connections'] ?? '1024'),
  );

  const tlsSecret = tlsSecretFlags(flags);

  const log = createLogger({ name: 'webhook' });
  const kc = loadKubeConfig(flags.kubeconfig);
  let bootstrap: TlsBootstrap | undefined;
  let pair: CertKeyPair;
  let caCert: string | undefined;
  let rotate: ((p: CertKeyPair) => void) | undefined; // set once the server is up
  if (tlsSecret) {
    bootstrap = await startTlsBootstrap({
      ...tlsSecret,
      secrets: kubeSecretIO(kc),
      configs: kubeWebhookConfigIO(kc),
      labels: { 'app.kubernetes.io/managed-by': 'rainbow-webhook', 'app.kubernetes.io/component': 'webhook', 'app.kubernetes.io/part-of': 'rainbow' },
      certDir: flags['cert-dir'],
      log,
      onRotate: (p) => rotate?.(p),
    });
    pair = { cert: bootstrap.current.cert, key: bootstrap.current.key };
    caCert = bootstrap.current.caCert;
  } else {
    ({ pair, caCert } = await servingPair(flags, bind));
  }
  const caOut = flags['ca-bundle-out'];
  if (caOut) {
    if (!caCert) throw new UsageError(`rainbow webhook: --ca-bundle-out needs --self-signed, or ${CA_FILE} next to the certificate in --cert-dir`);
    await writeFile(caOut, caCert);
  }

  const metrics = createMetrics({ processMetrics: true });
  const live = liveReads(kc);
  let caches: CachedReads | undefined;
  if (readsFrom === 'cache') {
    const started = Date.now();
    caches = startCachedReads(kc, live, {
      onError: (resource, err, retryInMs) => log.warn({ resource, err: apiErrorMessage(err), retryInMs }, 'watch cache: list/watch failed; its reads go to the API server until it watches again'),
      onRecovered: (resource) => log.info({ resource }, 'watch cache: watching again; reviews read from it again'),
    });
    void caches.synced.then(() => log.info({ ms: Date.now() - started }, 'watch caches synced: reviews read from them now'));
  }
  const reader = snapshotReader(caches ?? live);
  let ready = false;
  const app = webhookApp({
    mutateServices: cutoverHandler(reader),
    validateDeployments: deleteGuardHandler(reader, {
      onUnknown,
      podTimeoutMs,
      concurrency,
      budgetMs,
      onPodError: (r) => metrics.reporterErrors.inc({ reason: r.reason }),
    }),
    metrics,
    log,
    ready: () => ready,
  });
  // With --tls-secret, --cert-dir only tells the bootstrap to look again; the pair comes from the API.
  const server = await startHttps(app, { port, bind, pair, certDir: tlsSecret ? undefined : flags['cert-dir'], log, limits });
  rotate = (p) => server.server.setSecureContext({ minVersion: 'TLSv1.2', cert: p.cert, key: p.key });
  if (bootstrap && (bootstrap.current.cert !== pair.cert || bootstrap.current.key !== pair.key)) rotate(bootstrap.current); // rotated while starting
  ready = true;
  log.info({ url: server.url, cluster: kc.getCurrentCluster()?.server, reads: readsFrom, onUnknown, podTimeoutMs, budgetMs, concurrency }, 'rainbow webhook serving');

  onShutdown(
    [
      () => {
        ready = false;
        bootstrap?.stop();
      },
      () => server.close(graceMs),
      () => caches?.stop(),
      () => log.info('stopped'),
    ],
    { log: (signal) => log.info({ signal, graceMs }, 'shutting down: finishing reviews in flight'), onError: (err) => log.error({ err }, 'shutdown step failed') },
  );
}
