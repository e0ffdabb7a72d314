// rainbow doctor's load balancer checks: AWS NLB deregistration and GKE BackendConfig draining against max-drain.
import type { V1Service } from '@kubernetes/client-node';
import { backendConfigNames, checkLoadBalancers, parseAttributes } from '../../../webhook/src/status/doctor/load-balancers.js';
import { deployment, service } from '../../support/builders.js';
import { absent, appObjects, forbidden, found, input, SERVING } from './doctor-fixture.js';
import type { DoctorInput } from '../../../webhook/src/status/doctor/input.js';

const TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type';
const TARGET = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type';
const ATTRS = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';
const CHECK = 'Service shop/web-lb';

function lb(annotations: Record<string, string>, type = 'LoadBalancer'): V1Service {
  const s = service({ name: 'web-lb', color: SERVING, annotations: { 'rainbow.dev/max-drain': '2h', ...annotations } });
  s.spec!.type = type;
  return s;
}
const run = (s: V1Service, extra: Partial<DoctorInput> = {}) => checkLoadBalancers(input({ ...appObjects([s], [deployment({ color: SERVING })]), ...extra }));
const ipTargets = { [TYPE]: 'external', [TARGET]: 'ip' };

describe('AWS NLB', () => {
  it('is ok with instance targets: flows go through the nodes', () => {
    expect(run(lb({ [TYPE]: 'nlb' }))).toEqual([
      { area: 'load balancers', check: CHECK, status: 'ok', finding: 'AWS NLB with instance targets: it sends to nodes, which keep established flows on the old pods as the datapath does' },
    ]);
  });

  it('is ok with ip targets when the deregistration delay covers max-drain', () => {
    expect(run(lb({ 'rainbow.dev/max-drain': '1h', [TYPE]: 'nlb-ip', [ATTRS]: 'deregistration_delay.timeout_seconds=3600' }))).toEqual([
      { area: 'load balancers', check: CHECK, status: 'ok', finding: 'AWS NLB with ip targets: deregistered pods keep their flows for deregistration_delay.timeout_seconds=3600, at least max-drain 1h' },
    ]);
  });

  it('warns when the delay (300 s when not set) is shorter than max-drain', () => {
    expect(run(lb(ipTargets))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding:
          "AWS NLB with ip targets: when the selector moves it deregisters the old color's pods and keeps their established flows for certain only for the deregistration delay, deregistration_delay.timeout_seconds=300 (the default); max-drain is 2h",
        fix: `raise deregistration_delay.timeout_seconds in ${ATTRS} (at most 3600) and keep rainbow.dev/max-drain within it`,
      },
    ]);
    expect(run(lb({ ...ipTargets, [ATTRS]: 'deregistration_delay.timeout_seconds=3600' }))[0]!.fix).toBe(
      `lower rainbow.dev/max-drain to 1h (the NLB's longest delay), or use instance targets (${TARGET}: instance) so flows go through the nodes`,
    );
  });

  it('warns on a delay AWS would refuse', () => {
    expect(run(lb({ ...ipTargets, [ATTRS]: 'deregistration_delay.timeout_seconds=7200' }))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding: `deregistration_delay.timeout_seconds=7200 in ${ATTRS} is not a number of seconds from 0 to 3600, so AWS refuses it`,
        fix: 'write deregistration_delay.timeout_seconds=<seconds, at most 3600>',
      },
    ]);
  });

  it('fails with connection termination on deregistration', () => {
    expect(run(lb({ ...ipTargets, [ATTRS]: 'deregistration_delay.timeout_seconds=120, deregistration_delay.connection_termination.enabled=true' }))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'fail',
        finding:
          "AWS NLB with ip targets and deregistration_delay.connection_termination.enabled=true: when the selector moves, the NLB deregisters the old color's pods and resets their connections when the deregistration delay ends (deregistration_delay.timeout_seconds=120)",
        fix: `drop deregistration_delay.connection_termination.enabled=true from ${ATTRS} (false is the default)`,
      },
    ]);
  });

  it('parses target group attributes', () => {
    expect(parseAttributes(' a=1, b = two ,c,=x')).toEqual({ a: '1', b: 'two' });
    expect(parseAttributes(undefined)).toEqual({});
  });
});

describe('GKE BackendConfig', () => {
  const named = lb({ 'cloud.google.com/backend-config': '{"default": "web-draining"}' }, 'ClusterIP');
  const target = { verb: 'get' as const, resource: 'backendconfigs.cloud.google.com', namespace: 'shop', name: 'web-draining' };
  const withConfig = (read: DoctorInput['backendConfigs'][string]) => run(named, { backendConfigs: { 'shop/web-draining': read } });

  it('is ok when the draining timeout covers max-drain', () => {
    expect(withConfig(found({ spec: { connectionDraining: { drainingTimeoutSec: 7200 } } }))).toEqual([
      { area: 'load balancers', check: CHECK, status: 'ok', finding: 'BackendConfig web-draining: connectionDraining.drainingTimeoutSec is 7200, at least max-drain 2h' },
    ]);
  });

  it('warns when draining is shorter or not set, and when the BackendConfig is missing', () => {
    expect(withConfig(found({ spec: {} }))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding:
          "BackendConfig web-draining: connectionDraining.drainingTimeoutSec is not set (0: no draining), and max-drain is 2h: when the selector moves, the load balancer removes the old color's pods from its backends and keeps their connections only that long",
        fix: 'set spec.connectionDraining.drainingTimeoutSec in BackendConfig web-draining (at most 3600) and keep rainbow.dev/max-drain within it',
      },
    ]);
    expect(withConfig(found({ spec: { connectionDraining: { drainingTimeoutSec: 600 } } }))[0]!.finding).toMatch(/^BackendConfig web-draining: connectionDraining.drainingTimeoutSec is 600, and max-drain is 2h: /);
    expect(withConfig(absent(target))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding: 'names BackendConfig web-draining, which does not exist in shop (or the BackendConfig CRD, cloud.google.com, is not installed): GKE then drains nothing',
        fix: 'create BackendConfig web-draining with spec.connectionDraining.drainingTimeoutSec of at least max-drain (2h, GKE allows up to 3600), or correct the annotation',
      },
    ]);
  });

  it('warns on an unreadable annotation or BackendConfig', () => {
    expect(run(lb({ 'cloud.google.com/backend-config': '{"default":' }, 'ClusterIP'))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding: 'cannot read its cloud.google.com/backend-config annotation: Unexpected end of JSON input',
        fix: 'write it as {"default": "<BackendConfig>"} or {"ports": {"<port>": "<BackendConfig>"}}',
      },
    ]);
    expect(withConfig(forbidden(target))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'warn',
        finding: 'cannot get backendconfigs.cloud.google.com web-draining in shop: forbidden (forbidden by RBAC); the draining timeout of BackendConfig web-draining is not known',
        fix: 'grant get on backendconfigs.cloud.google.com in shop to whoever runs doctor, or run it with credentials that have it',
      },
    ]);
  });

  it('finds the names in both forms of the annotation', () => {
    expect(backendConfigNames(lb({ 'cloud.google.com/backend-config': '{"ports": {"80": "b", "8081": "a"}, "default": "b"}' }))).toEqual({ names: ['a', 'b'] });
    expect(backendConfigNames(lb({ 'beta.cloud.google.com/backend-config': '{"default": "old"}' }))).toEqual({ names: ['old'] });
    expect(backendConfigNames(lb({ 'cloud.google.com/backend-config': '{}' }))).toEqual({ names: [], error: 'it names no BackendConfig' });
  });
});

describe('other Services', () => {
  it('is ok without load balancers, and for a LoadBalancer it knows nothing about', () => {
    expect(checkLoadBalancers(input())).toEqual([{ area: 'load balancers', check: 'Services', status: 'ok', finding: 'no rainbow Service in namespace shop is a LoadBalancer or names a GKE BackendConfig' }]);
    expect(run(lb({}))).toEqual([
      {
        area: 'load balancers',
        check: CHECK,
        status: 'ok',
        finding:
          'LoadBalancer without AWS NLB or GKE BackendConfig annotations: if its load balancer targets nodes, the datapath check covers it; if it targets pod IPs, its draining timeout must cover max-drain',
      },
    ]);
  });

  it('warns when it cannot list Services', () => {
    expect(checkLoadBalancers(input({ services: forbidden({ verb: 'list', resource: 'services', namespace: 'shop' }) }))).toEqual([
      {
        area: 'load balancers',
        check: 'Services',
        status: 'warn',
        finding: 'cannot list services in shop: forbidden (forbidden by RBAC); load balancers in front of rainbow Services are not checked',
        fix: 'grant list on services in shop to whoever runs doctor, or run it with credentials that have it',
      },
    ]);
  });
});
