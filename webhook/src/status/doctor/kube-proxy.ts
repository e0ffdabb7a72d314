// kube-proxy's mode and conntrack timeout, from the KubeProxyConfiguration in the kube-proxy
// ConfigMap (kubeadm's `config.conf`) and the DaemonSet's flags, which win when both say (pure).
import { parse as parseYaml } from 'yaml';
import { tryParseDuration } from '../../domain/durations.js';
import type { DoctorInput, Read } from './input.js';

export const CONFIGMAP = 'ConfigMap kube-system/kube-proxy';
export const DAEMONSET = 'DaemonSet kube-system/kube-proxy';
/** kube-proxy's default conntrack.tcpEstablishedTimeout. */
export const DEFAULT_TCP_ESTABLISHED_SECONDS = 24 * 3600;
/** The kernel's nf_conntrack_tcp_timeout_established, which a 0 timeout leaves in place. */
export const KERNEL_TCP_ESTABLISHED_SECONDS = 5 * 24 * 3600;

export interface KubeProxySettings {
  /** As configured; '' is the platform default (iptables on Linux). */
  mode: string;
  modeSource: string;
  /** conntrack.tcpEstablishedTimeout in seconds; undefined when not set (the default 24h); 0: the node's own value is kept. */
  tcpEstablishedSeconds?: number;
  timeoutSource?: string;
}

export type KubeProxyFinding =
  | { kind: 'found'; settings: KubeProxySettings }
  | { kind: 'absent' }
  /** Neither read found anything and at least one was refused or failed. */
  | { kind: 'unreadable'; reads: Read<unknown>[] }
  | { kind: 'invalid'; source: string; error: string };

/** `--name=value` or `--name value` among the args; the last one wins, as with flag parsing. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  args.forEach((a, i) => {
    if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
    else if (a === `--${name}` && i + 1 < args.length) value = args[i + 1];
  });
  return value;
}

interface ConfigFile {
  mode?: unknown;
  conntrack?: { tcpEstablishedTimeout?: unknown } | null;
}

export function kubeProxySettings(input: Pick<DoctorInput, 'kubeProxy'>): KubeProxyFinding {
  const { configMap, daemonSetArgs } = input.kubeProxy;
  if (configMap.status !== 'found' && daemonSetArgs.status !== 'found') {
    const bad = [configMap, daemonSetArgs].filter((r) => r.status === 'forbidden' || r.status === 'failed');
    return bad.length > 0 ? { kind: 'unreadable', reads: bad } : { kind: 'absent' };
  }
  let config: ConfigFile = {};
  const text = configMap.status === 'found' ? configMap.value['config.conf'] : undefined;
  if (text !== undefined) {
    try {
      config = (parseYaml(text) as ConfigFile | null) ?? {};
    } catch (err) {
      return { kind: 'invalid', source: `config.conf of ${CONFIGMAP}`, error: (err as Error).message.split('\n')[0]!.replace(/:$/, '') };
    }
  }
  const args = daemonSetArgs.status === 'found' ? daemonSetArgs.value : [];
  const flagMode = flagValue(args, 'proxy-mode');
  const configSource = text !== undefined ? `config.conf of ${CONFIGMAP}` : daemonSetArgs.status === 'found' ? `${DAEMONSET} (no config.conf)` : `${CONFIGMAP} (no config.conf)`;
  const settings: KubeProxySettings =
    flagMode !== undefined
      ? { mode: flagMode, modeSource: `--proxy-mode of ${DAEMONSET}` }
      : { mode: typeof config.mode === 'string' ? config.mode : '', modeSource: configSource };
  const flagTimeout = flagValue(args, 'conntrack-tcp-timeout-established');
  const configTimeout = config.conntrack?.tcpEstablishedTimeout;
  const rawTimeout = flagTimeout ?? (configTimeout === null || configTimeout === undefined ? undefined : String(configTimeout));
  if (rawTimeout !== undefined) {
    const source = flagTimeout !== undefined ? `--conntrack-tcp-timeout-established of ${DAEMONSET}` : `conntrack.tcpEstablishedTimeout in ${configSource}`;
    const parsed = tryParseDuration(rawTimeout);
    if (!parsed.ok) return { kind: 'invalid', source, error: parsed.error };
    settings.tcpEstablishedSeconds = parsed.seconds;
    settings.timeoutSource = source;
  }
  return { kind: 'found', settings };
}
