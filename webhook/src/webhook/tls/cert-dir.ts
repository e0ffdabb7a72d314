// Serving certificate from a `--cert-dir` (tls.crt + tls.key, usually a mounted Secret), and
// reload when it rotates so an https.Server can `setSecureContext` without a restart.
//
// Why polling content rather than fs.watch: a Secret volume updates by writing a new
// timestamped dir and swapping the `..data` symlink; tls.crt is itself a symlink into it.
// fs.watch on the files follows the old inode and misses the swap, and events on the dir
// differ between kernels and overlay filesystems. Reading two small files every few seconds
// and comparing a hash is cheap and sees every rotation however it was done.

import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';

import { CERT_FILE, KEY_FILE } from './self-signed.js';

export interface CertKeyPair {
  /** PEM certificate (chain) from tls.crt. */
  cert: string;
  /** PEM private key from tls.key. */
  key: string;
}

/**
 * Read tls.crt and tls.key from `dir` and check that they make a usable TLS identity
 * (the certificate parses, the key matches it). Rejects with a message naming the file.
 */
export async function loadCertDir(dir: string): Promise<CertKeyPair> {
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  // Both reads settle before either error is reported, so the error names tls.crt first whatever
  // the timing (Promise.all would report whichever read failed first).
  const [cert, key] = await Promise.allSettled([readText(certPath), readText(keyPath)]);
  if (cert.status === 'rejected') throw cert.reason;
  if (key.status === 'rejected') throw key.reason;
  checkPair({ cert: cert.value, key: key.value }, certPath, keyPath);
  return { cert: cert.value, key: key.value };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`cannot read ${file} (${code}); check --cert-dir and the mounted TLS Secret`, { cause: err });
  }
}

function checkPair(pair: CertKeyPair, certPath: string, keyPath: string): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pair.cert);
  } catch (err) {
    throw new Error(`${certPath} is not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  try {
    // Builds the context the server would use: catches unreadable keys and key/cert mismatch.
    createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    throw new Error(
      `${keyPath} does not fit ${certPath} (${(err as Error).message}); ` +
        'both files must come from the same issuance',
      { cause: err },
    );
  }
  if (Date.parse(x509.validTo) < Date.now()) {
    throw new Error(`${certPath} expired on ${x509.validTo}; renew the webhook certificate`);
  }
}

export interface WatchCertDirOptions {
  /** The pair already in use (from loadCertDir); without it the first check reports a change. */
  initial?: CertKeyPair;
  /** Poll period (default 5000 ms). */
  intervalMs?: number;
  /** New valid pair: apply it, e.g. `server.setSecureContext({...pair, minVersion: 'TLSv1.2'})`. */
  onChange: (pair: CertKeyPair) => void;
  /** Files changed but cannot be used: the previous pair stays in use. Reported once per content. */
  onError: (err: Error) => void;
}

export interface CertDirWatcher {
  /** The last valid pair seen (initial or latest rotation). */
  readonly current: CertKeyPair | undefined;
  /** Check now (also what every poll does); resolves after any callback ran. */
  checkNow(): Promise<void>;
  /** Stop polling. */
  stop(): void;
}

/** Poll `dir` for rotated tls.crt/tls.key. The timer is unref'd: it never keeps the process alive. */
export function watchCertDir(dir: string, opts: WatchCertDirOptions): CertDirWatcher {
  const intervalMs = opts.intervalMs ?? 5000;
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  let current = opts.initial;
  let seen = current ? digest(current) : undefined; // hash of the last content acted on
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const check = async (): Promise<void> => {
    let pair: CertKeyPair;
    try {
      const [cert, key] = await Promise.all([readText(certPath), readText(keyPath)]);
      pair = { cert, key };
    } catch (err) {
      report(`read-error:${(err as Error).message}`, err as Error);
      return;
    }
    const hash = digest(pair);
    if (hash === seen) return;
    try {
      checkPair(pair, certPath, keyPath);
    } catch (err) {
      report(hash, new Error(`${(err as Error).message}; still serving the previous certificate`, { cause: err }));
      return;
    }
    seen = hash;
    current = pair;
    try {
      opts.onChange(pair);
    } catch (err) {
      opts.onError(new Error(`applying the rotated certificate from ${dir} failed: ${(err as Error).message}`, { cause: err }));
    }
  };

  // Report a problem once per distinct content (or read error), not on every poll.
  const report = (key: string, err: Error): void => {
    if (key === seen) return;
    seen = key;
    opts.onError(err);
  };

  // Serialise checks: a slow read must not overlap the next poll.
  const checkNow = (): Promise<void> => {
    running ??= check().finally(() => (running = undefined));
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void checkNow().finally(schedule), intervalMs);
    timer.unref();
  };
  schedule();

  return {
    get current() {
      return current;
    },
    checkNow,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

function digest(pair: CertKeyPair): string {
  return createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}
