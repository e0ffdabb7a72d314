// A real `rainbow webhook` for the benchmarks: a process with a self-signed certificate on
// 127.0.0.1, reading the local cluster, started detached and stopped by PID. On the host (the
// benchmark sends it reviews itself), or inside the cluster's namespace next to the API server
// (the API server calls it).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpsGet } from '../cluster/https-get.js';
import { sumMetric } from '../cluster/metrics-text.js';
import { execArgs } from '../cluster/control-plane.js';
import { clusterHttpsGet, insidePort } from '../cluster/network/portal.js';
import { insideKubeconfigPath, kubeconfigPath } from '../cluster/paths.js';
import { eventually } from '../cluster/poll.js';
import { freePort, isRunning, startDaemon, stopDaemon } from '../cluster/processes.js';
import { rainbowCommand } from '../cluster/rainbow-command.js';

export interface WebhookProcess {
  url: string;
  /** The CA of its serving certificate (PEM), for clients and caBundles. */
  ca: string;
  pid: number;
  log: string;
  /** Sum of a counter or gauge's samples on /metrics whose labels contain `labels` (e.g. 'webhook="mutate-services"'). */
  metric(name: string, labels?: string): Promise<number>;
  /** Stops it by PID; keeps its log (and says where) when `keepLog`. */
  stop(keepLog?: boolean): Promise<void>;
}

export interface WebhookProcessOptions {
  /** Flags beyond TLS, address and kubeconfig, e.g. ['--reads', 'live']. */
  args?: string[];
  /** Pin it to this CPU list with taskset (e.g. '0'). */
  cpu?: string;
  /** Flags for node itself, before the script (e.g. ['--trace-gc']). */
  nodeArgs?: string[];
  /** Where it runs: on the host (default) or inside the cluster's namespace, where the API server can call it. */
  where?: 'host' | 'inside';
}

/**
 * Starts the webhook and resolves once it serves (/readyz) and, reading from watch caches, once
 * they have synced, so what follows measures the steady state.
 */
export async function startWebhookProcess(opts: WebhookProcessOptions = {}): Promise<WebhookProcess> {
  const args = opts.args ?? [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-bench-webhook-'));
  const caFile = path.join(dir, 'ca.crt');
  const log = path.join(dir, 'webhook.log');
  const inside = opts.where === 'inside';
  const port = inside ? insidePort() : await freePort();
  const url = `https://127.0.0.1:${port}`;
  const { node, args: rainbow } = rainbowCommand();
  const cli = [...(opts.nodeArgs ?? []), ...rainbow, 'webhook', '--self-signed', '--bind', '127.0.0.1', '--port', String(port), '--ca-bundle-out', caFile, '--kubeconfig', inside ? insideKubeconfigPath : kubeconfigPath, ...args];
  const argv = [...(opts.cpu ? ['taskset', '-c', opts.cpu] : []), node, ...cli];
  const [cmd, ...cmdArgs] = inside ? execArgs(argv) : argv;
  const daemon = startDaemon('webhook', cmd!, cmdArgs, log);
  const get = (u: string, ca: string) => (inside ? clusterHttpsGet(u, ca) : httpsGet(u, { ca }));
  const hint = { abort: () => (isRunning(daemon) ? undefined : `rainbow webhook exited; see ${log}`), hint: `webhook log: ${log}` };
  const stop = async (keepLog = false) => {
    await stopDaemon(daemon);
    if (keepLog) console.log(`  webhook log kept: ${log}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = await eventually('the webhook to write its CA', async () => existsSync(caFile) && readFileSync(caFile, 'utf8').includes('END CERTIFICATE') && readFileSync(caFile, 'utf8'), 30_000, 100, hint);
    await eventually('the webhook /readyz', async () => (await get(`${url}/readyz`, ca)).status === 200, 30_000, 100, hint);
    const live = /--reads[= ]live\b/.test(args.join(' '));
    if (!live) await eventually('the webhook to log that its watch caches synced', async () => readFileSync(log, 'utf8').includes('watch caches synced'), 30_000, 100, hint);
    return {
      url,
      ca,
      pid: daemon.pid,
      log,
      async metric(name, labels) {
        const res = await get(`${url}/metrics`, ca);
        if (res.status !== 200) throw new Error(`webhook /metrics answered ${res.status}`);
        return sumMetric(res.body, name, labels);
      },
      stop,
    };
  } catch (err) {
    await stop(true);
    throw err;
  }
}
