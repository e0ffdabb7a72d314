// rainbow doctor's conntrack check: kube-proxy's TCP established timeout against each app's max-drain.
import { checkConntrack } from '../../../webhook/src/status/doctor/conntrack.js';
import { appObjects, forbidden, found, input, kubeProxyConfig, NO_KUBE_PROXY } from './doctor-fixture.js';

const IN_CONFIG = 'conntrack.tcpEstablishedTimeout in config.conf of ConfigMap kube-system/kube-proxy';

describe('conntrack', () => {
  it('is ok when the timeout (kube-proxy’s default 24h) covers max-drain', () => {
    expect(checkConntrack(input())).toEqual([
      { area: 'conntrack', check: 'shop/web', status: 'ok', finding: "an idle established flow is kept 24h (kube-proxy's default, not set in config.conf of ConfigMap kube-system/kube-proxy), at least max-drain 2h" },
    ]);
  });

  it('warns per app when the timeout is shorter than max-drain', () => {
    expect(checkConntrack(input({ kubeProxy: kubeProxyConfig({ tcpEstablishedTimeout: '1h0m0s' }) }))).toEqual([
      {
        area: 'conntrack',
        check: 'shop/web',
        status: 'warn',
        finding: `conntrack forgets an established TCP flow after 1h without a packet (${IN_CONFIG}), and max-drain is 2h: a connection to an old color that is idle longer than that and then sends again is sent to a current pod, which resets it`,
        fix: "send keepalives more often than every 1h (client or app), raise kube-proxy's conntrack.tcpEstablishedTimeout to at least 2h, or lower rainbow.dev/max-drain to 1h",
      },
    ]);
  });

  it('takes the DaemonSet’s flag over config.conf', () => {
    const [r] = checkConntrack(input({ kubeProxy: kubeProxyConfig({ tcpEstablishedTimeout: '48h' }, ['--conntrack-tcp-timeout-established=30m']) }));
    expect(r!.status).toBe('warn');
    expect(r!.finding).toBe(
      'conntrack forgets an established TCP flow after 30m without a packet (--conntrack-tcp-timeout-established of DaemonSet kube-system/kube-proxy), and max-drain is 2h: a connection to an old color that is idle longer than that and then sends again is sent to a current pod, which resets it',
    );
  });

  it('reads 0 as the kernel’s value, and assumes the default without a configuration', () => {
    expect(checkConntrack(input({ kubeProxy: kubeProxyConfig({ tcpEstablishedTimeout: '0s' }) }))).toEqual([
      {
        area: 'conntrack',
        check: 'shop/web',
        status: 'ok',
        finding: `an idle established flow is kept 120h (${IN_CONFIG} is 0: the nodes' nf_conntrack_tcp_timeout_established stays, the kernel's 5 days unless they set another), at least max-drain 2h`,
      },
    ]);
    expect(checkConntrack(input({ kubeProxy: NO_KUBE_PROXY }))).toEqual([
      { area: 'conntrack', check: 'shop/web', status: 'ok', finding: "an idle established flow is kept 24h (assumed: kube-proxy's default, no kube-proxy configuration found), at least max-drain 2h" },
    ]);
  });

  it('does not apply when kube-proxy is replaced, nor without apps', () => {
    expect(checkConntrack(input({ kubeProxy: NO_KUBE_PROXY, ciliumConfig: found({ 'kube-proxy-replacement': 'true' }) }))).toEqual([
      { area: 'conntrack', check: 'kube-proxy', status: 'ok', finding: "no kube-proxy: Cilium's kube-proxy replacement serves Services, so kube-proxy's conntrack timeout does not apply" },
    ]);
    expect(checkConntrack(input(appObjects([], [])))).toEqual([
      { area: 'conntrack', check: 'kube-proxy', status: 'ok', finding: 'no rainbow apps in namespace shop: no max-drain to compare the timeout with' },
    ]);
  });

  it('warns when it cannot read the timeout', () => {
    expect(checkConntrack(input({ kubeProxy: { ...NO_KUBE_PROXY, configMap: forbidden({ verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy' }) } }))).toEqual([
      {
        area: 'conntrack',
        check: 'kube-proxy',
        status: 'warn',
        finding: "cannot get configmaps kube-proxy in kube-system: forbidden (forbidden by RBAC); kube-proxy's conntrack TCP established timeout is not known",
        fix: 'grant get on configmaps in kube-system to whoever runs doctor, or run it with credentials that have it',
      },
    ]);
    expect(checkConntrack(input({ kubeProxy: kubeProxyConfig({ tcpEstablishedTimeout: '1 day' }) }))).toEqual([
      {
        area: 'conntrack',
        check: 'kube-proxy',
        status: 'warn',
        finding: `cannot read ${IN_CONFIG}: invalid duration "1 day": missing unit after 1 (write it like 60s, 5m, 48h or 1h30m)`,
        fix: 'correct it: doctor reads it as kube-proxy does',
      },
    ]);
  });
});
