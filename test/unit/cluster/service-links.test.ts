// The Service environment the node simulator gives every container, named as kubelet names it
// (pkg/kubelet/envvars): which Services a pod sees, and the variables of each.
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { serviceLinkEnv } from '../../../scripts/cluster/node-simulator/service-links.js';

const svc = (namespace: string, name: string, clusterIP: string, ports: V1ServicePort[]): V1Service => ({
  metadata: { namespace, name },
  spec: { clusterIP, ports },
});
const podIn = (namespace: string, enableServiceLinks?: boolean): V1Pod => ({
  metadata: { namespace, name: 'p' },
  spec: { containers: [], ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }) },
});

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
const KUBERNETES_ENV = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBERNETES_SERVICE_PORT_HTTPS: '443',
  KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
  KUBERNETES_PORT_443_TCP_PORT: '443',
  KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
};

test('a pod of any namespace finds the API server through the kubernetes Service of default', () => {
  for (const ns of ['default', 'shop', 'kube-system']) {
    expect(serviceLinkEnv(podIn(ns), [kubernetes])).toEqual(KUBERNETES_ENV);
  }
});

test('a Service of the pod\'s namespace gets every kubelet variable, dashes to underscores, uppercased', () => {
  const web = svc('shop', 'web-front', '10.96.0.20', [
    { name: 'http', port: 80, targetPort: 8080 }, // no protocol: TCP
    { name: 'metrics-port', port: 9090, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]);
  expect(serviceLinkEnv(podIn('shop'), [web])).toEqual({
    WEB_FRONT_SERVICE_HOST: '10.96.0.20',
    WEB_FRONT_SERVICE_PORT: '80',
    WEB_FRONT_SERVICE_PORT_HTTP: '80',
    WEB_FRONT_SERVICE_PORT_METRICS_PORT: '9090',
    WEB_FRONT_SERVICE_PORT_DNS: '53',
    WEB_FRONT_PORT: 'tcp://10.96.0.20:80',
    WEB_FRONT_PORT_80_TCP: 'tcp://10.96.0.20:80',
    WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
    WEB_FRONT_PORT_80_TCP_PORT: '80',
    WEB_FRONT_PORT_80_TCP_ADDR: '10.96.0.20',
    WEB_FRONT_PORT_9090_TCP: 'tcp://10.96.0.20:9090',
    WEB_FRONT_PORT_9090_TCP_PROTO: 'tcp',
    WEB_FRONT_PORT_9090_TCP_PORT: '9090',
    WEB_FRONT_PORT_9090_TCP_ADDR: '10.96.0.20',
    WEB_FRONT_PORT_53_UDP: 'udp://10.96.0.20:53',
    WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
    WEB_FRONT_PORT_53_UDP_PORT: '53',
    WEB_FRONT_PORT_53_UDP_ADDR: '10.96.0.20',
  });
});

test('the first port gives _SERVICE_PORT and _PORT even when it is unnamed', () => {
  const env = serviceLinkEnv(podIn('shop'), [svc('shop', 'api', '10.96.0.30', [{ port: 8081 }, { name: 'admin', port: 8082 }])]);
  expect(env).toMatchObject({ API_SERVICE_PORT: '8081', API_PORT: 'tcp://10.96.0.30:8081', API_SERVICE_PORT_ADMIN: '8082', API_PORT_8082_TCP_ADDR: '10.96.0.30' });
  expect(Object.keys(env).filter((k) => k.startsWith('API_SERVICE_PORT_'))).toEqual(['API_SERVICE_PORT_ADMIN']);
});

test('Services of other namespaces are not linked, except default/kubernetes', () => {
  const env = serviceLinkEnv(podIn('shop'), [kubernetes, svc('default', 'web', '10.96.0.40', [{ port: 80 }]), svc('other', 'cache', '10.96.0.41', [{ port: 6379 }]), svc('shop', 'db', '10.96.0.42', [{ port: 5432 }])]);
  expect(env).toMatchObject({ ...KUBERNETES_ENV, DB_SERVICE_HOST: '10.96.0.42' });
  expect(Object.keys(env).filter((k) => /^(WEB|CACHE)_/.test(k))).toEqual([]);
});

test('a pod of default sees every Service of default, kubernetes once', () => {
  const env = serviceLinkEnv(podIn('default'), [kubernetes, svc('default', 'web', '10.96.0.40', [{ port: 80 }])]);
  expect(env).toEqual({
    ...KUBERNETES_ENV,
    WEB_SERVICE_HOST: '10.96.0.40',
    WEB_SERVICE_PORT: '80',
    WEB_PORT: 'tcp://10.96.0.40:80',
    WEB_PORT_80_TCP: 'tcp://10.96.0.40:80',
    WEB_PORT_80_TCP_PROTO: 'tcp',
    WEB_PORT_80_TCP_PORT: '80',
    WEB_PORT_80_TCP_ADDR: '10.96.0.40',
  });
});

test('headless Services and Services without a ClusterIP give no variables', () => {
  const env = serviceLinkEnv(podIn('shop'), [svc('shop', 'headless', 'None', [{ port: 80 }]), svc('shop', 'pending', '', [{ port: 80 }]), { metadata: { namespace: 'shop', name: 'external' }, spec: { type: 'ExternalName', externalName: 'example.com' } }]);
  expect(env).toEqual({});
});

test('enableServiceLinks: false drops the namespace\'s Services but keeps the kubernetes Service', () => {
  const services = [kubernetes, svc('shop', 'db', '10.96.0.42', [{ port: 5432 }])];
  expect(serviceLinkEnv(podIn('shop', false), services)).toEqual(KUBERNETES_ENV);
  expect(serviceLinkEnv(podIn('default', false), [...services, svc('default', 'web', '10.96.0.40', [{ port: 80 }])])).toEqual(KUBERNETES_ENV);
  expect(serviceLinkEnv(podIn('shop', true), services)).toHaveProperty('DB_SERVICE_HOST', '10.96.0.42');
});

test('without a kubernetes Service there are only the namespace\'s own links', () => {
  expect(serviceLinkEnv(podIn('shop'), [])).toEqual({});
  expect(Object.keys(serviceLinkEnv(podIn('shop'), [svc('shop', 'db', '10.96.0.42', [{ port: 5432 }])])).every((k) => k.startsWith('DB_'))).toBe(true);
});

test('a Service named kubernetes in the pod\'s namespace replaces default/kubernetes, as in kubelet', () => {
  const own = svc('shop', 'kubernetes', '10.96.0.77', [{ name: 'web', port: 80, protocol: 'TCP' }]);
  const env = serviceLinkEnv(podIn('shop'), [kubernetes, own]);
  expect(env).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.96.0.77', KUBERNETES_SERVICE_PORT: '80', KUBERNETES_SERVICE_PORT_WEB: '80' });
  expect(env).not.toHaveProperty('KUBERNETES_SERVICE_PORT_HTTPS');
});
