// One way of releasing a new version of the demo app, as the peers benchmark drives it
// (scripts/bench/peers/main.ts): a plain Deployment, Argo Rollouts, Flagger, rainbow. The
// benchmark owns the clients and the measurements; a strategy only installs its tool, deploys
// the first version behind a Service and releases the second.
import type { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, V1Pod } from '@kubernetes/client-node';

/** A version of the demo app: its color is RAINBOW_COLOR of the app container (what it prints). */
export interface AppVersion {
  color: string;
  replicas: number;
}

export interface PeerContext {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  /** A namespace of this strategy's own, created by the benchmark and deleted after it. */
  namespace: string;
  /** The app's name: the strategy's Service clients connect to is named `app`. */
  app: string;
  /** The node simulator's image of the project (runs `rainbow …`). */
  image: string;
  /** A folder for the strategy's logs and rendered files, kept when the run fails. */
  dir: string;
  say(line: string): void;
}

export interface Strategy {
  /** Short name used in results: deployment, argo-rollouts, flagger, rainbow. */
  name: string;
  /** The tool and its version as run, e.g. "Argo Rollouts v1.8.3". */
  version: string;
  /** What a reader needs to know about how it was configured (the defaults kept, the ones set). */
  settings: string;
  /** Starts the tool's controller (and CRDs) if it has one. Once per benchmark run. */
  install(ctx: PeerContext): Promise<void>;
  /** Deploys `v` behind Service `ctx.app` (TCP port 8081 and HTTP port 8080); resolves once the Service serves `v`. */
  deploy(ctx: PeerContext, v: AppVersion): Promise<void>;
  /** Starts the release of `v` the way a user of the tool would; resolves once submitted. */
  release(ctx: PeerContext, v: AppVersion): Promise<void>;
  /** Removes the app and stops the tool; must leave no process behind. */
  uninstall(ctx: PeerContext): Promise<void>;
}

/** The version a pod runs: the app container's RAINBOW_COLOR. */
export function colorOfPod(pod: V1Pod): string | undefined {
  const app = pod.spec?.containers.find((c) => c.name === 'app') ?? pod.spec?.containers[0];
  return app?.env?.find((e) => e.name === 'RAINBOW_COLOR')?.value;
}
