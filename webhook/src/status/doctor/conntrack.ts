// conntrack's TCP established timeout against each app's max-drain: kube-proxy's Service NAT
// lives in conntrack, and an entry that expires while the flow is idle is gone for good (pure).
import { kubeProxyReplaced } from './datapath.js';
import { appViews, span, type DoctorInput } from './input.js';
import { DEFAULT_TCP_ESTABLISHED_SECONDS, KERNEL_TCP_ESTABLISHED_SECONDS, kubeProxySettings } from './kube-proxy.js';
import { ok, unreadable, warn, type CheckResult } from './result.js';

export function checkConntrack(input: DoctorInput): CheckResult[] {
  const k = kubeProxySettings(input);
  const replaced = kubeProxyReplaced(input);
  if (k.kind === 'absent' && replaced) return [ok('conntrack', 'kube-proxy', `no kube-proxy: ${replaced} serves Services, so kube-proxy's conntrack timeout does not apply`)];
  if (k.kind === 'unreadable') return [unreadable('conntrack', 'kube-proxy', k.reads[0]!, "kube-proxy's conntrack TCP established timeout is not known")!];
  if (k.kind === 'invalid') return [warn('conntrack', 'kube-proxy', `cannot read ${k.source}: ${k.error}`, 'correct it: doctor reads it as kube-proxy does')];
  const apps = appViews(input);
  if (apps.length === 0) return [ok('conntrack', 'kube-proxy', `no rainbow apps in ${input.namespace ? `namespace ${input.namespace}` : 'any namespace'}: no max-drain to compare the timeout with`)];
  let seconds = DEFAULT_TCP_ESTABLISHED_SECONDS;
  let from: string;
  if (k.kind === 'absent') from = "assumed: kube-proxy's default, no kube-proxy configuration found";
  else if (k.settings.tcpEstablishedSeconds === undefined) from = `kube-proxy's default, not set in ${k.settings.modeSource}`;
  else if (k.settings.tcpEstablishedSeconds === 0) {
    seconds = KERNEL_TCP_ESTABLISHED_SECONDS;
    from = `${k.settings.timeoutSource} is 0: the nodes' nf_conntrack_tcp_timeout_established stays, the kernel's 5 days unless they set another`;
  } else {
    seconds = k.settings.tcpEstablishedSeconds;
    from = k.settings.timeoutSource!;
  }
  return apps.map(({ namespace, app, maxDrainSeconds }) => {
    const check = `${namespace}/${app}`;
    if (seconds >= maxDrainSeconds) return ok('conntrack', check, `an idle established flow is kept ${span(seconds)} (${from}), at least max-drain ${span(maxDrainSeconds)}`);
    return warn(
      'conntrack',
      check,
      `conntrack forgets an established TCP flow after ${span(seconds)} without a packet (${from}), and max-drain is ${span(maxDrainSeconds)}: a connection to an old color that is idle longer than that and then sends again is sent to a current pod, which resets it`,
      `send keepalives more often than every ${span(seconds)} (client or app), raise kube-proxy's conntrack.tcpEstablishedTimeout to at least ${span(maxDrainSeconds)}, or lower rainbow.dev/max-drain to ${span(seconds)}`,
    );
  });
}
