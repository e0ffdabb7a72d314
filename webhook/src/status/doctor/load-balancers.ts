// Load balancers in front of rainbow Services: one that targets pod IPs deregisters the old
// color's pods when the selector moves, and keeps their flows only as long as it drains (pure).
import type { V1Service } from '@kubernetes/client-node';
import { annotationOf } from '../../domain/objects.js';
import { appViews, span, type DoctorInput } from './input.js';
import { fail, ok, unreadable, warn, type CheckResult } from './result.js';

export const AWS_LB_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type';
export const AWS_NLB_TARGET_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type';
export const AWS_TARGET_GROUP_ATTRIBUTES = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';
export const AWS_LB_CLASS = 'service.k8s.aws/nlb';
export const GKE_BACKEND_CONFIG = 'cloud.google.com/backend-config';
export const GKE_BACKEND_CONFIG_BETA = 'beta.cloud.google.com/backend-config';
export const NLB_DEFAULT_DEREGISTRATION_DELAY = 300;
export const NLB_MAX_DEREGISTRATION_DELAY = 3600;
const DELAY = 'deregistration_delay.timeout_seconds';
const TERMINATION = 'deregistration_delay.connection_termination.enabled';

/** `a=1,b=2` → {a: '1', b: '2'}. */
export function parseAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** The BackendConfigs a Service's annotation names (`{"default": "x"}`, `{"ports": {"80": "y"}}`). */
export function backendConfigNames(svc: V1Service): { names: string[]; error?: string } {
  const raw = annotationOf(svc, GKE_BACKEND_CONFIG) ?? annotationOf(svc, GKE_BACKEND_CONFIG_BETA);
  if (raw === undefined) return { names: [] };
  try {
    const parsed = JSON.parse(raw) as { default?: unknown; ports?: unknown };
    const names = new Set<string>();
    if (typeof parsed.default === 'string') names.add(parsed.default);
    if (parsed.ports && typeof parsed.ports === 'object') for (const v of Object.values(parsed.ports)) if (typeof v === 'string') names.add(v);
    if (names.size === 0) return { names: [], error: 'it names no BackendConfig' };
    return { names: [...names].sort() };
  } catch (err) {
    return { names: [], error: (err as Error).message };
  }
}

function awsCheck(svc: V1Service, check: string, maxDrain: number): CheckResult | undefined {
  const type = annotationOf(svc, AWS_LB_TYPE)?.trim().toLowerCase();
  const rawAttributes = annotationOf(svc, AWS_TARGET_GROUP_ATTRIBUTES);
  const isNlb = type === 'nlb' || type === 'external' || type === 'nlb-ip' || svc.spec?.loadBalancerClass === AWS_LB_CLASS || rawAttributes !== undefined;
  if (!isNlb) return undefined;
  const ipTargets = annotationOf(svc, AWS_NLB_TARGET_TYPE)?.trim().toLowerCase() === 'ip' || type === 'nlb-ip';
  if (!ipTargets) return ok('load balancers', check, 'AWS NLB with instance targets: it sends to nodes, which keep established flows on the old pods as the datapath does');
  const attributes = parseAttributes(rawAttributes);
  const rawDelay = attributes[DELAY];
  const delay = rawDelay === undefined ? NLB_DEFAULT_DEREGISTRATION_DELAY : Number(rawDelay);
  const delayText = `${DELAY}=${rawDelay ?? `${NLB_DEFAULT_DEREGISTRATION_DELAY} (the default)`}`;
  if (attributes[TERMINATION]?.toLowerCase() === 'true') {
    return fail(
      'load balancers',
      check,
      `AWS NLB with ip targets and ${TERMINATION}=true: when the selector moves, the NLB deregisters the old color's pods and resets their connections when the deregistration delay ends (${delayText})`,
      `drop ${TERMINATION}=true from ${AWS_TARGET_GROUP_ATTRIBUTES} (false is the default)`,
    );
  }
  if (!/^\d+$/.test(rawDelay ?? '0') || delay > NLB_MAX_DEREGISTRATION_DELAY) {
    return warn('load balancers', check, `${delayText} in ${AWS_TARGET_GROUP_ATTRIBUTES} is not a number of seconds from 0 to ${NLB_MAX_DEREGISTRATION_DELAY}, so AWS refuses it`, `write ${DELAY}=<seconds, at most ${NLB_MAX_DEREGISTRATION_DELAY}>`);
  }
  if (delay < maxDrain) {
    return warn(
      'load balancers',
      check,
      `AWS NLB with ip targets: when the selector moves it deregisters the old color's pods and keeps their established flows for certain only for the deregistration delay, ${delayText}; max-drain is ${span(maxDrain)}`,
      delay < NLB_MAX_DEREGISTRATION_DELAY
        ? `raise ${DELAY} in ${AWS_TARGET_GROUP_ATTRIBUTES} (at most ${NLB_MAX_DEREGISTRATION_DELAY}) and keep rainbow.dev/max-drain within it`
        : `lower rainbow.dev/max-drain to ${span(NLB_MAX_DEREGISTRATION_DELAY)} (the NLB's longest delay), or use instance targets (${AWS_NLB_TARGET_TYPE}: instance) so flows go through the nodes`,
    );
  }
  return ok('load balancers', check, `AWS NLB with ip targets: deregistered pods keep their flows for ${delayText}, at least max-drain ${span(maxDrain)}`);
}

function gkeChecks(svc: V1Service, check: string, maxDrain: number, input: DoctorInput): CheckResult[] {
  const { names, error } = backendConfigNames(svc);
  const namespace = svc.metadata?.namespace ?? '';
  if (error !== undefined) {
    return [warn('load balancers', check, `cannot read its ${GKE_BACKEND_CONFIG} annotation: ${error}`, 'write it as {"default": "<BackendConfig>"} or {"ports": {"<port>": "<BackendConfig>"}}')];
  }
  return names.map((name) => {
    const read = input.backendConfigs[`${namespace}/${name}`];
    if (!read) return warn('load balancers', check, `BackendConfig ${name} was not read`, 'run doctor again');
    if (read.status === 'absent') {
      return warn(
        'load balancers',
        check,
        `names BackendConfig ${name}, which does not exist in ${namespace} (or the BackendConfig CRD, cloud.google.com, is not installed): GKE then drains nothing`,
        `create BackendConfig ${name} with spec.connectionDraining.drainingTimeoutSec of at least max-drain (${span(maxDrain)}, GKE allows up to 3600), or correct the annotation`,
      );
    }
    if (read.status !== 'found') return unreadable('load balancers', check, read, `the draining timeout of BackendConfig ${name} is not known`)!;
    const draining = (read.value.spec?.connectionDraining as { drainingTimeoutSec?: unknown } | undefined)?.drainingTimeoutSec;
    const seconds = typeof draining === 'number' ? draining : 0;
    const text = `BackendConfig ${name}: connectionDraining.drainingTimeoutSec ${typeof draining === 'number' ? `is ${seconds}` : 'is not set (0: no draining)'}`;
    if (seconds >= maxDrain) return ok('load balancers', check, `${text}, at least max-drain ${span(maxDrain)}`);
    return warn(
      'load balancers',
      check,
      `${text}, and max-drain is ${span(maxDrain)}: when the selector moves, the load balancer removes the old color's pods from its backends and keeps their connections only that long`,
      `set spec.connectionDraining.drainingTimeoutSec in BackendConfig ${name} (at most 3600) and keep rainbow.dev/max-drain within it`,
    );
  });
}

export function checkLoadBalancers(input: DoctorInput): CheckResult[] {
  if (input.services.status !== 'found') return [unreadable('load balancers', 'Services', input.services, 'load balancers in front of rainbow Services are not checked')!];
  const results: CheckResult[] = [];
  for (const { maxDrainSeconds, services } of appViews(input)) {
    for (const svc of [...services].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
      const hasBackendConfig = annotationOf(svc, GKE_BACKEND_CONFIG) !== undefined || annotationOf(svc, GKE_BACKEND_CONFIG_BETA) !== undefined;
      const isLb = svc.spec?.type === 'LoadBalancer';
      if (!isLb && !hasBackendConfig) continue;
      const check = `Service ${svc.metadata?.namespace}/${svc.metadata?.name}`;
      const aws = isLb ? awsCheck(svc, check, maxDrainSeconds) : undefined;
      if (aws) results.push(aws);
      if (hasBackendConfig) results.push(...gkeChecks(svc, check, maxDrainSeconds, input));
      if (isLb && !aws && !hasBackendConfig) {
        results.push(
          ok(
            'load balancers',
            check,
            'LoadBalancer without AWS NLB or GKE BackendConfig annotations: if its load balancer targets nodes, the datapath check covers it; if it targets pod IPs, its draining timeout must cover max-drain',
          ),
        );
      }
    }
  }
  if (results.length === 0) {
    return [ok('load balancers', 'Services', `no rainbow Service in ${input.namespace ? `namespace ${input.namespace}` : 'any namespace'} is a LoadBalancer or names a GKE BackendConfig`)];
  }
  return results;
}
