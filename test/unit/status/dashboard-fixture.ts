// Status reports for the dashboard tests, built by the real model from API-shaped objects.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ProbeResult } from '../../../webhook/src/domain/color-states.js';
import { buildStatus, type StatusReport } from '../../../webhook/src/status/model.js';
import { NS, deployment, service } from '../../support/builders.js';

export { NS };
export const SERVING = '43c26a';
export const OLD = '0a3d62';
export const PENDING = 'b2c3d4';

export interface FakeState {
  /** Connections of the serving and the old color; the old color is gone when `old` is undefined. */
  serving: number;
  old?: number;
  /** Extra apps `app-01`… with one serving color each. */
  extraApps?: number;
}

/**
 * web: SERVING serving, PENDING pending (no pod ready), OLD draining since 10 min before `now`;
 * api: one color whose pods could not be asked; then `extraApps` small apps.
 */
export function fakeReport(now: Date, s: FakeState): StatusReport {
  const iso = (ms: number) => new Date(now.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const services: V1Service[] = [service({ color: SERVING, pending: PENDING }), service({ app: 'api', color: 'feed42' })];
  const deployments: V1Deployment[] = [
    deployment({ color: SERVING, created: iso(3600_000) }),
    { ...deployment({ color: PENDING, created: iso(30_000) }), status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 0, availableReplicas: 0 } },
    deployment({ app: 'api', color: 'feed42', created: iso(7200_000) }),
  ];
  const web: Record<string, ProbeResult> = { [SERVING]: { count: s.serving }, [PENDING]: { count: 0 } };
  if (s.old !== undefined) {
    deployments.push(deployment({ color: OLD, created: iso(2 * 3600_000), annotations: { 'rainbow.dev/drain-started': iso(600_000) } }));
    web[OLD] = { count: s.old };
  }
  services[0]!.metadata!.annotations!['rainbow.dev/keep-colors'] = '0';
  const probes = new Map<string, Map<string, ProbeResult>>([
    [`${NS}/web`, new Map(Object.entries(web))],
    [`${NS}/api`, new Map([['feed42', { count: 0, unknown: 'pod api-feed42-x1: timeout after 2000 ms asking port 9471/connections' }]])],
  ]);
  for (let i = 1; i <= (s.extraApps ?? 0); i++) {
    const app = `app-${String(i).padStart(2, '0')}`;
    const color = (0x101010 * (i % 15) + 0x0a0b0c).toString(16).padStart(6, '0').slice(0, 6);
    services.push(service({ app, color }));
    deployments.push(deployment({ app, color, created: iso(60_000 * i) }));
    probes.set(`${NS}/${app}`, new Map([[color, { count: i % 4 }]]));
  }
  return buildStatus({ services, deployments, probes, now });
}
