// Entry point of `scripts/local-cluster up|down|status|build|env|exec`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildTools } from './build-tools.js';
import { ensureCommands } from './debian-packages.js';
import { progress } from './progress.js';
import { down, execArgs, status, up, readState } from './control-plane.js';
import { defaultRecordDir, recordReviews } from './record-reviews.js';
import { binDir, kubeconfigPath } from './paths.js';

const usage = `usage: scripts/local-cluster <command>

  up      build the pinned tools if needed, then start etcd, kube-apiserver,
          kube-controller-manager, kube-scheduler, kube-proxy and the node simulator
          in a sealed network namespace of the cluster's own; the API server and
          every NodePort are forwarded to a host loopback address of this cluster's
  down    stop every process the cluster started (by PID); its namespace, bridge,
          veths and nft tables go with it, and its state is removed
  status  say what runs
  build   only build the tools into .local-cluster/bin
  env     print shell exports (KUBECONFIG, PATH, RAINBOW_CLUSTER_HOST) for this
          cluster: eval "$(scripts/local-cluster env)"
  exec -- COMMAND [ARGS…]
          run a command inside the cluster's network namespace, e.g.
          scripts/local-cluster exec -- curl http://<pod IP>:8080/ , nft list ruleset, conntrack -L
  record-reviews [DIR]
          record the AdmissionReviews the API server sends for every way a color's
          pods can go (scales, template changes, pod deletes, evictions) into DIR
          (default test/fixtures/admission/recorded)`;

const cmd = process.argv[2];
try {
  switch (cmd) {
    case 'up':
      await up();
      break;
    case 'down':
      await down();
      break;
    case 'status':
      process.exitCode = (await status()) ? 0 : 3;
      break;
    case 'build':
      await buildTools();
      // `ct lint` runs yamllint; without it the ct lint chart test fails, saying so.
      try {
        ensureCommands([{ command: 'yamllint', pkg: 'yamllint' }], "ct lint's YAML lint (the chart tests)");
      } catch (err) {
        progress(`${(err as Error).message}; until then the ct lint chart test fails`);
      }
      break;
    case 'env': {
      const state = readState();
      if (!state) console.error('# the local cluster is not running; start it with scripts/local-cluster up');
      console.log(`export KUBECONFIG=${kubeconfigPath}\nexport PATH=${binDir}:$PATH${state?.host ? `\nexport RAINBOW_CLUSTER_HOST=${state.host}` : ''}`);
      break;
    }
    case 'record-reviews':
      await recordReviews(path.resolve(process.argv[3] ?? defaultRecordDir));
      break;
    case 'exec': {
      const argv = process.argv.slice(3);
      const [cmd, ...args] = execArgs(argv[0] === '--' ? argv.slice(1) : argv);
      const r = spawnSync(cmd!, args, { stdio: 'inherit' });
      if (r.error) throw r.error;
      process.exitCode = r.status ?? 1;
      break;
    }
    default:
      console.error(usage);
      process.exitCode = cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
} catch (err) {
  console.error(`local-cluster ${cmd}: ${(err as Error).message}`);
  process.exitCode = 1;
}
