// Entry point of `scripts/local-cluster up|down|status|build|env`.
import { buildTools } from './build-tools.js';
import { down, status, up, readState } from './control-plane.js';
import { binDir, kubeconfigPath } from './paths.js';

const usage = `usage: scripts/local-cluster <command>

  up      build the pinned tools if needed, then start etcd, kube-apiserver,
          kube-controller-manager, kube-scheduler and the node simulator on 127.0.0.1
  down    stop every process the cluster started (by PID) and remove its state
  status  say what runs
  build   only build the tools into .local-cluster/bin
  env     print shell exports (KUBECONFIG, PATH) for this cluster: eval "$(scripts/local-cluster env)"`;

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
      break;
    case 'env':
      if (!readState()) console.error('# the local cluster is not running; start it with scripts/local-cluster up');
      console.log(`export KUBECONFIG=${kubeconfigPath}\nexport PATH=${binDir}:$PATH`);
      break;
    default:
      console.error(usage);
      process.exitCode = cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
} catch (err) {
  console.error(`local-cluster ${cmd}: ${(err as Error).message}`);
  process.exitCode = 1;
}
