import http from 'node:http';
import type { AddressInfo } from 'node:net';

import request from 'supertest';

import { createMetrics, metricsHandler, recordAdmission } from '../../../webhook/src/runtime/metrics.js';

describe('metrics', () => {
  it('keeps each instance on its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics(); // would throw "already registered" on a shared registry
    recordAdmission(a, { webhook: 'validate-deployments', operation: 'DELETE', allowed: false, reason: 'connections', durationSeconds: 0.004 });
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toContain('rainbow_admission_requests_total{webhook="validate-deployments",operation="DELETE",allowed="false"} 1');
    expect(textA).toContain('rainbow_admission_denials_total{webhook="validate-deployments",reason="connections"} 1');
    expect(textA).toContain('rainbow_admission_duration_seconds_bucket{le="0.005",webhook="validate-deployments",operation="DELETE"} 1');
    expect(textA).toContain('rainbow_admission_duration_seconds_bucket{le="0.0025",webhook="validate-deployments",operation="DELETE"} 0');
    expect(textB).not.toContain('operation="DELETE"');
  });

  it('counts allowed reviews without a denial, and reporter errors by reason', async () => {
    const m = createMetrics();
    recordAdmission(m, { webhook: 'mutate-services', operation: 'UPDATE', allowed: true, durationSeconds: 0.0015 });
    m.reporterErrors.inc({ reason: 'timeout' });
    m.reporterErrors.inc({ reason: 'timeout' });
    const text = await m.registry.metrics();
    expect(text).toContain('rainbow_admission_requests_total{webhook="mutate-services",operation="UPDATE",allowed="true"} 1');
    expect(text).not.toMatch(/rainbow_admission_denials_total\{/);
    expect(text).toContain('rainbow_reporter_errors_total{reason="timeout"} 2');
  });

  it('exposes millisecond-scale latency buckets, in seconds, and files a review under each bucket it fits', async () => {
    const m = createMetrics();
    recordAdmission(m, { webhook: 'mutate-services', operation: 'UPDATE', allowed: true, durationSeconds: 0.0007 });
    recordAdmission(m, { webhook: 'mutate-services', operation: 'UPDATE', allowed: true, durationSeconds: 0.03 });
    const text = await m.registry.metrics();
    const buckets = [...text.matchAll(/rainbow_admission_duration_seconds_bucket\{le="([^"]+)",webhook="mutate-services",operation="UPDATE"\} (\d+)/g)].map(([, le, n]) => [le, Number(n)]);
    expect(buckets).toEqual([
      ['0.001', 1], ['0.0025', 1], ['0.005', 1], ['0.01', 1], ['0.025', 1], ['0.05', 2], ['0.1', 2], ['0.25', 2], ['0.5', 2], ['1', 2], ['2.5', 2], ['5', 2], ['10', 2], ['+Inf', 2],
    ]);
  });

  it('adds process metrics only when asked', async () => {
    const m = createMetrics({ processMetrics: true });
    expect(await m.registry.metrics()).toContain('rainbow_process_cpu_user_seconds_total');
    expect(await createMetrics().registry.metrics()).not.toContain('process_cpu');
  });

  it('serves GET /metrics in the Prometheus text format', async () => {
    const m = createMetrics();
    recordAdmission(m, { webhook: 'mutate-services', operation: 'CREATE', allowed: true, durationSeconds: 0.002 });
    const server = http.createServer(metricsHandler(m.registry));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await request(url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.text).toContain('# TYPE rainbow_admission_duration_seconds histogram');
      expect(res.text).toContain('allowed="true"} 1');
      const post = await request(url).post('/metrics').expect(405);
      expect(post.headers.allow).toBe('GET, HEAD');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
