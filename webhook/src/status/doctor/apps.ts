// Per app: Services that select every color, colors kept past max-drain with connections, and
// pods whose connections cannot be read, from `rainbow status`'s own counts (pure).
import { colorOfService } from '../../domain/availability.js';
import { stateLabel } from '../../domain/color-states.js';
import { appKey } from '../model.js';
import { appViews, span, type DoctorInput } from './input.js';
import { fail, ok, unreadable, warn, type CheckResult } from './result.js';

export function checkApps(input: DoctorInput): CheckResult[] {
  const scope = input.namespace ? `namespace ${input.namespace}` : 'any namespace';
  const cannot = [input.services, input.deployments]
    .map((r) => unreadable('apps', 'apps', r, 'the apps are not checked'))
    .filter((r): r is CheckResult => r !== undefined);
  if (cannot.length > 0) return cannot;
  const apps = appViews(input);
  if (apps.length === 0) return [ok('apps', 'apps', `no rainbow apps (objects labelled rainbow.dev/app) in ${scope}`)];
  const results: CheckResult[] = [];
  const statusProblem = unreadable('apps', 'connections', input.status, 'connection counts are not checked');
  if (statusProblem) results.push(statusProblem);
  const report = input.status.status === 'found' ? input.status.value : undefined;
  for (const { namespace, app, services } of apps) {
    const check = `${namespace}/${app}`;
    const mine: CheckResult[] = [];
    const unselective = services.filter((s) => !colorOfService(s)).map((s) => s.metadata?.name ?? '(unnamed)').sort();
    if (unselective.length > 0) {
      const one = unselective.length === 1;
      mine.push(
        fail(
          'apps',
          check,
          `Service${one ? '' : 's'} ${unselective.join(', ')} ${one ? 'has' : 'have'} no rainbow.dev/color in ${one ? 'its' : 'their'} selector: ${one ? 'it sends' : 'they send'} new connections to every color, draining ones too, and the controller cleans up nothing of ${app}`,
          `select one color: kubectl -n ${namespace} patch service ${unselective[0]} -p '{"spec":{"selector":{"rainbow.dev/color":"<serving color>"}}}' (or helm upgrade the app)`,
        ),
      );
    }
    const status = report?.apps.find((a) => appKey(a.namespace, a.app) === appKey(namespace, app));
    for (const c of status?.colors ?? []) {
      const onTheWayOut = c.state === 'draining' || c.state === 'drained';
      if (onTheWayOut && c.drainDeadline && c.drainDeadline.getTime() < input.now.getTime() && (c.connections ?? 0) > 0) {
        mine.push(
          warn(
            'apps',
            check,
            `color ${c.color} is ${span((input.now.getTime() - c.drainDeadline.getTime()) / 1000)} past max-drain (${span(status!.settings.maxDrainSeconds)}) and still holds ${c.connections} connection${c.connections === 1 ? '' : 's'}`,
            `the controller deletes it at its next drain round (it forces the guard); if it stays, see the controller's Events: kubectl -n ${namespace} get events --field-selector involvedObject.name=${c.deployment ?? `${app}-${c.color}`}`,
          ),
        );
      }
      if (c.connectionsError !== undefined) {
        const forbidden = /\b403\b|forbidden/i.test(c.connectionsError);
        mine.push(
          warn(
            'apps',
            check,
            `connections of color ${c.color} cannot be read: ${c.connectionsError}`,
            forbidden
              ? `grant get on pods/proxy in ${namespace} (or run doctor with --direct inside the cluster network)`
              : `make the color's pods answer GET /connections (the reporter sidecar, rainbow.dev/connections-port, default 9471): until they do, the guard refuses to remove them and the controller deletes the color only at max-drain`,
          ),
        );
      }
    }
    if (mine.length === 0) {
      const colors = status?.colors ?? [];
      const finding = !report
        ? 'every Service selects a color; connection counts not read'
        : colors.length === 0
          ? 'no colors yet'
          : `${status?.uninstall?.uninstalled ? 'uninstalled (no Service): ' : ''}${colors.length} color${colors.length === 1 ? '' : 's'} (${colors
              .map((c) => `${c.color} ${stateLabel(c.state, status?.uninstall?.uninstalled === true)}`)
              .join(', ')}), every count read`;
      mine.push(ok('apps', check, finding));
    }
    results.push(...mine);
  }
  return results;
}
