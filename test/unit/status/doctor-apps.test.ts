// rainbow doctor's per-app checks: Services without a color, colors past max-drain with connections, unreadable counts.
import { checkApps } from '../../../webhook/src/status/doctor/apps.js';
import { deployment, service } from '../../support/builders.js';
import { appObjects, forbidden, input, NOW, SERVING } from './doctor-fixture.js';

const OLD = 'a1b2c3';
const current = deployment({ color: SERVING, created: '2026-03-02T00:00:00Z' });

describe('apps', () => {
  it('is ok for an app whose Service names a color and whose counts are read', () => {
    expect(checkApps(input())).toEqual([{ area: 'apps', check: 'shop/web', status: 'ok', finding: '1 color (3c3fdc serving), every count read' }]);
    expect(checkApps(input(appObjects([], [])))).toEqual([{ area: 'apps', check: 'apps', status: 'ok', finding: 'no rainbow apps (objects labelled rainbow.dev/app) in namespace shop' }]);
  });

  it('fails for Services that select every color', () => {
    expect(checkApps(input(appObjects([service({}), service({ name: 'web-all' })], [current])))).toEqual([
      {
        area: 'apps',
        check: 'shop/web',
        status: 'fail',
        finding: 'Services web, web-all have no rainbow.dev/color in their selector: they send new connections to every color, draining ones too, and the controller cleans up nothing of web',
        fix: `select one color: kubectl -n shop patch service web -p '{"spec":{"selector":{"rainbow.dev/color":"<serving color>"}}}' (or helm upgrade the app)`,
      },
    ]);
  });

  it('warns for a color past max-drain that still holds connections', () => {
    const drainStarted = new Date(NOW.getTime() - 3 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const old = deployment({ color: OLD, created: '2026-03-01T00:00:00Z', annotations: { 'rainbow.dev/drain-started': drainStarted } });
    const svc = service({ color: SERVING, annotations: { 'rainbow.dev/max-drain': '2h', 'rainbow.dev/keep-colors': '0' } });
    expect(checkApps(input(appObjects([svc], [old, current], { [SERVING]: { count: 3 }, [OLD]: { count: 2 } })))).toEqual([
      {
        area: 'apps',
        check: 'shop/web',
        status: 'warn',
        finding: 'color a1b2c3 is 1h past max-drain (2h) and still holds 2 connections',
        fix: "the controller deletes it at its next drain round (it forces the guard); if it stays, see the controller's Events: kubectl -n shop get events --field-selector involvedObject.name=web-a1b2c3",
      },
    ]);
    expect(checkApps(input(appObjects([svc], [old, current], { [SERVING]: { count: 3 }, [OLD]: { count: 0 } })))[0]!.status).toBe('ok');
  });

  it('warns for pods whose connections cannot be read, with the fix for RBAC when the proxy refused', () => {
    const unknown = (why: string) => checkApps(input(appObjects([service({ color: SERVING })], [current], { [SERVING]: { count: 0, unknown: why } })));
    expect(unknown('pod web-3c3fdc-x: connection refused asking 10.244.0.9:9471/connections')).toEqual([
      {
        area: 'apps',
        check: 'shop/web',
        status: 'warn',
        finding: 'connections of color 3c3fdc cannot be read: pod web-3c3fdc-x: connection refused asking 10.244.0.9:9471/connections',
        fix: "make the color's pods answer GET /connections (the reporter sidecar, rainbow.dev/connections-port, default 9471): until they do, the guard refuses to remove them and the controller deletes the color only at max-drain",
      },
    ]);
    expect(unknown('pod web-3c3fdc-x: status 403 asking port 9471/connections through the API server\'s pod proxy: pods "web-3c3fdc-x" is forbidden')[0]!.fix).toBe(
      'grant get on pods/proxy in shop (or run doctor with --direct inside the cluster network)',
    );
  });

  it('warns when it cannot list the apps or read their counts', () => {
    expect(checkApps(input({ services: forbidden({ verb: 'list', resource: 'services', namespace: 'shop' }) }))).toEqual([
      {
        area: 'apps',
        check: 'apps',
        status: 'warn',
        finding: 'cannot list services in shop: forbidden (forbidden by RBAC); the apps are not checked',
        fix: 'grant list on services in shop to whoever runs doctor, or run it with credentials that have it',
      },
    ]);
    expect(checkApps(input({ status: { status: 'failed', target: { verb: 'list', resource: 'services, deployments.apps and pods', namespace: 'shop' }, message: 'connection reset' } }))).toEqual([
      {
        area: 'apps',
        check: 'connections',
        status: 'warn',
        finding: 'cannot list services, deployments.apps and pods in shop: connection reset; connection counts are not checked',
        fix: 'check that the API server answers and retry',
      },
      { area: 'apps', check: 'shop/web', status: 'ok', finding: 'every Service selects a color; connection counts not read' },
    ]);
  });
});
