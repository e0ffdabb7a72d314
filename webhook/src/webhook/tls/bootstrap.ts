// `rainbow webhook --tls-secret NAME`: the webhook's own TLS. At start, ensure the Secret
// (secret-store.ts), serve its pair, inject its CA (ca-injector.ts); then, every few minutes and
// whenever the mounted copy of the Secret changes (--cert-dir), check again: a replica that finds
// the certificate rotated (by another replica, or by itself when it nears expiry) switches to it
// and re-injects. Injection is retried on its own, sooner, until it succeeds: at install the
// webhook configurations may be created a moment after the first pod starts.

import type { V1OwnerReference } from '@kubernetes/client-node';

import type { Logger } from '../../runtime/log.js';
import { KIND_NAMES, injectCaBundle, type InjectTargets, type WebhookConfigIO } from './ca-injector.js';
import type { CertKeyPair } from './cert-dir.js';
import { watchCertDir, type CertDirWatcher } from './cert-dir.js';
import { ensureTlsSecret, type EnsureTlsSecretOptions, type EnsuredTls, type SecretIO } from './secret-store.js';

export interface TlsBootstrapOptions extends Omit<EnsureTlsSecretOptions, 'owner'> {
  secrets: SecretIO;
  configs: WebhookConfigIO;
  inject: InjectTargets;
  log: Logger;
  /** Re-check period (default 5 minutes). */
  intervalMs?: number;
  /** Retry period of a failed injection or check (default 5 s). */
  retryMs?: number;
  /** The mounted Secret: a change there triggers a check (its content is not trusted as such). */
  certDir?: string;
  /** New pair to serve (another replica rotated, or this one did). */
  onRotate: (pair: CertKeyPair) => void;
}

export interface TlsBootstrap {
  /** The pair being served. */
  readonly current: EnsuredTls;
  /** Check the Secret and the caBundles now. */
  check(): Promise<void>;
  stop(): void;
}

/** The Secret's owner: the first configuration injected into (validating first), so that uninstalling the chart deletes it. */
async function ownerOf(configs: WebhookConfigIO, inject: InjectTargets): Promise<V1OwnerReference | undefined> {
  const kind = inject.validating.length > 0 ? 'validating' : inject.mutating.length > 0 ? 'mutating' : undefined;
  if (!kind) return undefined;
  const name = inject[kind][0]!;
  try {
    const c = await configs.read(kind, name);
    return c.uid ? { apiVersion: 'admissionregistration.k8s.io/v1', kind: KIND_NAMES[kind], name, uid: c.uid } : undefined;
  } catch {
    return undefined; // not there yet: the next check adds the owner
  }
}

export async function startTlsBootstrap(opts: TlsBootstrapOptions): Promise<TlsBootstrap> {
  const { log } = opts;
  const where = `${opts.namespace}/${opts.name}`;
  const ensure = async () => ensureTlsSecret(opts.secrets, { ...opts, owner: await ownerOf(opts.configs, opts.inject) });
  let current = await ensure();
  log.info({ tlsSecret: where, action: current.action, reason: current.reason, notAfter: current.notAfter, renewAt: current.renewAt }, `TLS Secret ${where}: ${current.action}`);

  let injected: string | undefined; // caCert last injected successfully
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failing = false;

  const inject = async () => {
    if (injected === current.caCert) return;
    if (opts.inject.mutating.length + opts.inject.validating.length === 0) return;
    await injectCaBundle(opts.configs, opts.inject, current.caCert, { log });
    injected = current.caCert;
  };

  const run = async () => {
    try {
      const next = await ensure();
      if (next.cert !== current.cert || next.key !== current.key) {
        log.info({ tlsSecret: where, action: next.action, reason: next.reason, notAfter: next.notAfter }, 'serving certificate changed in the Secret; new connections use it');
        opts.onRotate({ cert: next.cert, key: next.key });
      }
      current = next;
      injected = undefined; // re-read the configurations on every check: repairs a caBundle someone reset
      await inject();
      if (failing) log.info({ tlsSecret: where }, 'TLS check succeeded again');
      failing = false;
    } catch (err) {
      failing = true;
      log.error({ tlsSecret: where, err: (err as Error).message }, 'TLS check failed; still serving the current certificate, retrying');
    }
  };

  const check = (): Promise<void> => {
    running ??= run().finally(() => (running = undefined));
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void check().finally(schedule), failing ? (opts.retryMs ?? 5000) : (opts.intervalMs ?? 300_000));
    timer.unref();
  };

  // First injection now; on failure (configurations not created yet, say) retry soon.
  try {
    await inject();
  } catch (err) {
    failing = true;
    log.warn({ tlsSecret: where, err: (err as Error).message }, 'cannot inject the caBundle yet; retrying');
  }
  schedule();

  let watcher: CertDirWatcher | undefined;
  if (opts.certDir) {
    watcher = watchCertDir(opts.certDir, {
      initial: { cert: current.cert, key: current.key },
      onChange: () => void check(),
      // The mount may be empty (optional Secret, not created yet) or absent outside a pod: only a hint.
      onError: (err) => log.debug({ certDir: opts.certDir, err: err.message }, 'mounted TLS Secret not usable (the API copy is what counts)'),
    });
  }

  return {
    get current() {
      return current;
    },
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      watcher?.stop();
    },
  };
}
