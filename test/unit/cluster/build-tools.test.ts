// Which tool groups `scripts/local-cluster build` builds, and which only when named: the
// prometheus group (promtool, Prometheus) serves only `npm run test:prometheus`.
import { prometheusRelease, requiredVersion, selectGroups, TOOL_GROUPS } from '../../../scripts/cluster/build-tools.js';

describe('tool groups', () => {
  it('builds every group but the optional ones (monitoring tests, peers benchmark) by default', () => {
    expect(selectGroups().map((g) => g.module)).toEqual(['kubernetes', 'etcd', 'helm', 'chart-testing']);
    expect(TOOL_GROUPS.filter((g) => g.optional).map((g) => g.module)).toEqual(['prometheus', 'argo-rollouts', 'flagger']);
  });

  it('builds the groups named, and refuses an unknown name', () => {
    expect(selectGroups(['prometheus']).map((g) => g.packages)).toEqual([['github.com/prometheus/prometheus/cmd/prometheus', 'github.com/prometheus/prometheus/cmd/promtool']]);
    expect(() => selectGroups(['grafana'])).toThrow('no tool group grafana; there are: kubernetes, etcd, helm, chart-testing, prometheus');
  });

  it('pins Prometheus 3.16.0 (module v0.316.0) and reports it as such', () => {
    const group = selectGroups(['prometheus'])[0]!;
    expect(requiredVersion(group)).toBe('v0.316.0');
    expect(prometheusRelease('v0.316.0')).toBe('3.16.0');
    expect(prometheusRelease('v0.305.2')).toBe('3.5.2');
    expect(group.ldflags('v0.316.0')).toContain('-X github.com/prometheus/common/version.Version=3.16.0');
  });
});
