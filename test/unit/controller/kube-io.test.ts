import { apiErrorMessage } from '../../../webhook/src/kube/client.js';
import { isAdmissionDenial } from '../../../webhook/src/controller/kube-io.js';
import { memorySource } from './memory-source.js';
import { startMetricsServer, createControllerMetrics, recordColors, forgetApp } from '../../../webhook/src/controller/metrics.js';
import { deployment, service } from '../../support/builders.js';

describe('API errors', () => {
  const denial = {
    code: 403,
    body: '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"admission webhook \\"deployments.rainbow.dev\\" denied the request: Refusing to delete Deployment shop/web-3c3fdc: 2 established connections still open","reason":"Forbidden","code":403}',
  };
  it('reads the Status message of the body', () => {
    expect(apiErrorMessage(denial)).toBe('admission webhook "deployments.rainbow.dev" denied the request: Refusing to delete Deployment shop/web-3c3fdc: 2 established connections still open');
    expect(apiErrorMessage({ code: 500, body: { message: 'etcdserver: leader changed' } })).toBe('etcdserver: leader changed');
    expect(apiErrorMessage({ code: 502, body: 'Bad Gateway\n', message: 'HTTP-Code: 502' })).toBe('Bad Gateway');
    expect(apiErrorMessage(new Error('connect ECONNREFUSED 127.0.0.1:6443'))).toBe('connect ECONNREFUSED 127.0.0.1:6443');
  });
  it("tells the guard's denial from missing RBAC", () => {
    expect(isAdmissionDenial(denial)).toBe(true);
    expect(isAdmissionDenial({ code: 403, body: { message: 'deployments.apps "web-3c3fdc" is forbidden: User "system:serviceaccount:x:y" cannot delete resource' } })).toBe(false);
    expect(isAdmissionDenial({ code: 409, body: denial.body })).toBe(false);
  });
});

describe('memorySource', () => {
  it('notifies add, update and delete like a watch', async () => {
    const seen: string[] = [];
    const src = memorySource([service({ color: 'aaaaaa' })]);
    await src.start({ onService: (s, e) => seen.push(`svc ${e} ${s.metadata?.name}`), onDeployment: (d, e) => seen.push(`dep ${e} ${d.metadata?.name}`) });
    src.put(deployment({ color: 'aaaaaa' }));
    src.put(deployment({ color: 'aaaaaa', replicas: 3 }));
    src.put(service({ color: 'bbbbbb' }));
    src.remove(deployment({ color: 'aaaaaa' }));
    expect(seen).toEqual(['dep add web-aaaaaa', 'dep update web-aaaaaa', 'svc update web', 'dep delete web-aaaaaa']);
    expect(src.services('shop')).toHaveLength(1);
    expect(src.services('elsewhere')).toHaveLength(0);
  });
});

describe('metrics server', () => {
  it('serves /metrics, /healthz and /readyz', async () => {
    const m = createControllerMetrics();
    recordColors(m, 'shop', 'web', ['serving', 'draining', 'draining']);
    let ready = false;
    const server = await startMetricsServer({ registry: m.registry, port: 0, bind: '127.0.0.1', ready: () => ready });
    try {
      const get = async (path: string) => {
        const res = await fetch(`${server.url}${path}`);
        return { status: res.status, text: await res.text() };
      };
      expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
      expect((await get('/readyz')).status).toBe(503);
      ready = true;
      expect((await get('/readyz')).status).toBe(200);
      const metrics = await get('/metrics');
      expect(metrics.text).toContain('rainbow_colors{namespace="shop",app="web",state="draining"} 2');
      expect(metrics.text).toContain('rainbow_colors{namespace="shop",app="web",state="kept"} 0');
      expect((await get('/other')).status).toBe(404);
      forgetApp(m, 'shop', 'web', []);
      expect((await get('/metrics')).text).not.toContain('app="web"');
    } finally {
      await server.close();
    }
  });
});
