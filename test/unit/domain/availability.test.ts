import type { V1Deployment } from '@kubernetes/client-node';
import { isDeploymentAvailable, isShrunk, readServiceSettings, shrunkFrom, unavailability } from '../../../webhook/src/domain/availability.js';
import { deployment, service } from '../../support/builders.js';

function withStatus(status: V1Deployment['status'], over: Partial<V1Deployment['spec']> = {}): V1Deployment {
  const d = deployment({ color: '3c3fdc', replicas: 2, generation: 4 });
  d.spec = { ...d.spec!, ...over };
  d.status = status;
  return d;
}

describe('isDeploymentAvailable (observed generation current, updated == available == spec.replicas > 0)', () => {
  it('is true when the rollout is observed and every replica is updated and available', () => {
    expect(isDeploymentAvailable(withStatus({ observedGeneration: 4, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2, replicas: 2 }))).toBe(true);
  });

  it('ignores status.replicas and readyReplicas, which also count terminating and old pods', () => {
    expect(isDeploymentAvailable(withStatus({ observedGeneration: 4, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 3, replicas: 4 }))).toBe(true);
  });

  it('accepts an observed generation ahead of metadata.generation', () => {
    expect(isDeploymentAvailable(withStatus({ observedGeneration: 5, updatedReplicas: 2, availableReplicas: 2 }))).toBe(true);
  });

  it.each([
    ['the controller has not observed the current generation', { observedGeneration: 3, updatedReplicas: 2, availableReplicas: 2 }, {}],
    ['not every replica is updated', { observedGeneration: 4, updatedReplicas: 1, availableReplicas: 2 }, {}],
    ['not every replica is available', { observedGeneration: 4, updatedReplicas: 2, availableReplicas: 1 }, {}],
    ['more are available than wanted (old pods still up)', { observedGeneration: 4, updatedReplicas: 2, availableReplicas: 3 }, {}],
    ['it is scaled to zero', { observedGeneration: 4, updatedReplicas: 0, availableReplicas: 0 }, { replicas: 0 }],
    ['it has no status yet', undefined, {}],
  ])('is false when %s', (_why, status, spec) => {
    expect(isDeploymentAvailable(withStatus(status, spec))).toBe(false);
  });

  it('is false for a missing Deployment or one being deleted', () => {
    expect(isDeploymentAvailable(undefined)).toBe(false);
    expect(isDeploymentAvailable(null)).toBe(false);
    expect(isDeploymentAvailable(deployment({ color: '3c3fdc', deleting: true }))).toBe(false);
  });

  it('defaults spec.replicas to 1 as the API server does', () => {
    const d = withStatus({ observedGeneration: 4, updatedReplicas: 1, availableReplicas: 1 });
    delete d.spec!.replicas;
    expect(isDeploymentAvailable(d)).toBe(true);
  });
});

describe('a color shrunk while it drained (rainbow.dev/shrunk-from above spec.replicas)', () => {
  const shrunk = (replicas: number, from: string) => deployment({ color: 'a', replicas, annotations: { 'rainbow.dev/shrunk-from': from } });

  it('is not Available, though its one pod is: a rollback waits for its replicas', () => {
    expect(isDeploymentAvailable(shrunk(1, '4'))).toBe(false);
    expect(isShrunk(shrunk(1, '4'))).toBe(true);
    expect(unavailability(shrunk(1, '4'))).toBe(
      "is shrunk to 1 of its 4 replicas while it drained (Deployment web-a, rainbow.dev/shrunk-from); rainbow-controller scales it back before it can serve",
    );
  });

  it('is Available again once its replicas are back, the annotation still there or not', () => {
    expect(isDeploymentAvailable(shrunk(4, '4'))).toBe(true);
    expect(isDeploymentAvailable(shrunk(5, '4'))).toBe(true);
    expect(unavailability(shrunk(4, '4'))).toBeUndefined();
  });

  it('an unusable shrunk-from is ignored', () => {
    for (const bad of ['', 'four', '-4', '0', '2.5']) {
      expect(shrunkFrom(shrunk(1, bad))).toBeUndefined();
      expect(isDeploymentAvailable(shrunk(1, bad))).toBe(true);
    }
    expect(shrunkFrom(shrunk(1, ' 4 '))).toBe(4);
  });

  it('scaled to 0 says so first', () => {
    expect(unavailability(shrunk(0, '4'))).toBe('is scaled to 0 (Deployment web-a)');
  });
});

describe('unavailability', () => {
  it('explains why a color cannot serve', () => {
    expect(unavailability(undefined)).toBe('has no Deployment yet');
    expect(unavailability(deployment({ color: 'a', available: false }))).toBe('is not Available yet (0/2 ready)');
    expect(unavailability(withStatus({ observedGeneration: 4, updatedReplicas: 1, availableReplicas: 2 }))).toBe(
      'is not Available yet (1/2 updated, 2/2 available)',
    );
    expect(unavailability(withStatus({ observedGeneration: 3 }))).toBe('is not Available yet (generation 4 not yet rolled out)');
    expect(unavailability(deployment({ color: 'a', replicas: 0 }))).toBe('is scaled to 0 (Deployment web-a)');
    expect(unavailability(deployment({ color: 'a', deleting: true }))).toBe('is being deleted (Deployment web-a)');
    expect(unavailability(deployment({ color: 'a' }))).toBeUndefined();
  });
});

describe('readServiceSettings', () => {
  it('uses the defaults when there are no annotations', () => {
    expect(readServiceSettings(service())).toEqual({
      settings: { cutover: 'ready', keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 172800, shrink: true },
      warnings: {},
    });
  });

  it('reads every annotation', () => {
    const svc = service({
      annotations: {
        'rainbow.dev/cutover': 'immediate',
        'rainbow.dev/keep-colors': '3',
        'rainbow.dev/drain-grace': '90',
        'rainbow.dev/max-drain': '1h30m',
        'rainbow.dev/shrink': 'false',
      },
    });
    expect(readServiceSettings(svc)).toEqual({
      settings: { cutover: 'immediate', keepColors: 3, drainGraceSeconds: 90, maxDrainSeconds: 5400, shrink: false },
      warnings: {},
    });
  });

  it('warns about unusable values and keeps the defaults instead of throwing', () => {
    const svc = service({
      annotations: {
        'rainbow.dev/cutover': 'later',
        'rainbow.dev/keep-colors': '-1',
        'rainbow.dev/drain-grace': 'a minute',
        'rainbow.dev/max-drain': '2d',
        'rainbow.dev/shrink': 'no',
      },
    });
    const { settings, warnings } = readServiceSettings(svc);
    expect(settings).toEqual({ cutover: 'ready', keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 172800, shrink: true });
    // Keyed by annotation, so that a caller takes the ones it uses without searching the text.
    expect(warnings).toEqual({
      'rainbow.dev/cutover': 'Service web: ignoring rainbow.dev/cutover="later" (expected ready or immediate); using ready',
      'rainbow.dev/keep-colors': 'Service web: ignoring rainbow.dev/keep-colors="-1" (expected a whole number ≥ 0); using 1',
      'rainbow.dev/drain-grace':
        'Service web: ignoring rainbow.dev/drain-grace="a minute" (invalid duration "a minute": unexpected "a minute" (write it like 60s, 5m, 48h or 1h30m)); using 1m',
      'rainbow.dev/max-drain':
        'Service web: ignoring rainbow.dev/max-drain="2d" (invalid duration "2d": unknown unit "d"; Go durations have no days, use hours (48h); use h, m, s or ms (write it like 60s, 5m, 48h or 1h30m)); using 48h',
      'rainbow.dev/shrink': 'Service web: ignoring rainbow.dev/shrink="no" (expected true or false); using true',
    });
  });

  it('reads rainbow.dev/shrink as true or false, whatever the case and spaces', () => {
    const shrink = (v: string) => readServiceSettings(service({ annotations: { 'rainbow.dev/shrink': v } }));
    expect(shrink('true').settings.shrink).toBe(true);
    expect(shrink(' FALSE ').settings.shrink).toBe(false);
    expect(shrink('False').warnings).toEqual({});
    expect(shrink('0')).toEqual({
      settings: expect.objectContaining({ shrink: true }),
      warnings: { 'rainbow.dev/shrink': 'Service web: ignoring rainbow.dev/shrink="0" (expected true or false); using true' },
    });
  });
});
