// Every check of `rainbow doctor`, in the order the table shows them (pure).
import { checkApps } from './apps.js';
import { checkConntrack } from './conntrack.js';
import { checkDatapath } from './datapath.js';
import type { DoctorInput } from './input.js';
import { checkLoadBalancers } from './load-balancers.js';
import { checkNetworkPolicies } from './network-policies.js';
import { checkRainbow } from './rainbow-system.js';
import { byArea, type CheckResult } from './result.js';

export function runChecks(input: DoctorInput): CheckResult[] {
  return byArea([
    ...checkDatapath(input),
    ...checkConntrack(input),
    ...checkLoadBalancers(input),
    ...checkNetworkPolicies(input),
    ...checkRainbow(input),
    ...checkApps(input),
  ]);
}
