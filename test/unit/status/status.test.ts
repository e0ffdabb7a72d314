import type { ProbeResult } from '../../../webhook/src/domain/color-states.js';
import {
  drainLeftSeconds,
  formatJson,
  formatTables,
  humanDuration,
  swatch,
  visibleWidth,
  wantsTrueColor,
} from '../../../webhook/src/status/format.js';
import { buildStatus, type StatusReport } from '../../../webhook/src/status/model.js';
import { NS, deployment, service } from '../../support/builders.js';

const NOW = new Date('2025-11-26T12:00:00Z');
const probes = (m: Record<string, Record<string, ProbeResult>>) =>
  new Map(Object.entries(m).map(([k, v]) => [k, new Map(Object.entries(v))]));

/** What the controller published for a1b2c3 three minutes ago. */
const A1B2C3_FORECAST = '{"earliest":"2025-11-26T14:00:00Z","latest":"2025-11-26T17:00:00Z","remaining":3,"computedAt":"2025-11-26T11:57:00Z"}';

/** web: 3c3fdc serving, b2c3d4 pending (1/2 ready), a1b2c3 draining (busy), 0f0f0f kept, deadbe drained, 77aa00 unknown. */
function report(): StatusReport {
  const started = (h: number) => ({ 'rainbow.dev/drain-started': new Date(NOW.getTime() - h * 3600_000).toISOString().replace('.000', '') });
  return buildStatus({
    services: [service({ color: '3c3fdc', pending: 'b2c3d4', annotations: { 'rainbow.dev/keep-colors': '1' } })],
    deployments: [
      deployment({ color: '3c3fdc', created: '2025-11-25T12:00:00Z' }),
      { ...deployment({ color: 'b2c3d4', created: '2025-11-26T11:59:20Z' }), status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } },
      deployment({ color: '0f0f0f', created: '2025-11-24T12:00:00Z', annotations: started(2) }),
      deployment({ color: 'a1b2c3', created: '2025-11-23T12:00:00Z', annotations: { ...started(6.5), 'rainbow.dev/drain-forecast': A1B2C3_FORECAST } }),
      deployment({ color: 'deadbe', created: '2025-11-22T12:00:00Z', annotations: started(30) }),
      deployment({ color: '77aa00', created: '2025-11-20T12:00:00Z', annotations: started(50) }),
      deployment({ app: 'api', color: 'feed42', created: '2025-11-26T11:00:00Z' }),
    ],
    probes: probes({
      [`${NS}/web`]: {
        '3c3fdc': { count: 14 },
        b2c3d4: { count: 0 },
        '0f0f0f': { count: 0 },
        a1b2c3: { count: 3 },
        deadbe: { count: 0 },
        '77aa00': { count: 1, unknown: 'pod web-77aa00-x1: connection refused at 127.0.10.9:9471' },
      },
    }),
    now: NOW,
  });
}

describe('status model', () => {
  it('gives every color its state, in a stable order', () => {
    const web = report().apps.find((a) => a.app === 'web')!;
    expect(web.colors.map((c) => `${c.color}:${c.state}`)).toEqual(['3c3fdc:serving', 'b2c3d4:pending', '0f0f0f:kept', 'a1b2c3:draining', 'deadbe:drained', '77aa00:draining']);
    expect(report().apps.map((a) => `${a.namespace}/${a.app}`)).toEqual(['shop/api', 'shop/web']);
  });

  it('drain-left is shown only for colors on the way out', () => {
    const web = report().apps.find((a) => a.app === 'web')!;
    expect(web.colors.map((c) => drainLeftSeconds(c, NOW))).toEqual([undefined, undefined, undefined, 41.5 * 3600, 18 * 3600, -2 * 3600]);
  });

  it('can be limited to one app', () => {
    const r = buildStatus({ services: [service({ color: '3c3fdc' })], deployments: [deployment({ color: '3c3fdc' }), deployment({ app: 'api', color: 'feed42' })], probes: new Map(), now: NOW, app: 'api' });
    expect(r.apps.map((a) => a.app)).toEqual(['api']);
  });
});

describe('status table', () => {
  it('golden: plain (piped, or no true color)', () => {
    expect(formatTables(report(), { swatch: false })).toBe(
      [
        'shop/api: no Service',
        'COLOR    STATE   READY   CONNECTIONS   AGE   DRAIN-LEFT   FORECAST',
        'feed42   new     2/2     -             60m   -            -',
        'warning: app api has Deployments but no Service labelled rainbow.dev/app=api: nothing is known to serve, so no color is cleaned up',
        '',
        'shop/web: Service web → 3c3fdc (pending b2c3d4)',
        'COLOR    STATE      READY   CONNECTIONS   AGE   DRAIN-LEFT   FORECAST',
        '3c3fdc   serving    2/2     14            24h   -            -',
        'b2c3d4   pending    1/2     0             40s   -            -',
        '0f0f0f   kept       2/2     0             2d    -            -',
        'a1b2c3   draining   2/2     3             3d    41h          in 2h–5h',
        'deadbe   drained    2/2     0             4d    18h          -',
        '77aa00   draining   2/2     ?             6d    overdue      -',
        '? 77aa00: pod web-77aa00-x1: connection refused at 127.0.10.9:9471',
        '',
      ].join('\n'),
    );
  });

  it('golden: with true-color swatches, columns still line up', () => {
    const out = formatTables(report(), { swatch: true });
    const lines = out.split('\n');
    expect(lines[6]).toBe('COLOR       STATE      READY   CONNECTIONS   AGE   DRAIN-LEFT   FORECAST');
    expect(lines[7]).toBe('\x1b[48;2;60;63;220m  \x1b[0m 3c3fdc   serving    2/2     14            24h   -            -');
    expect(lines[9]).toBe('\x1b[48;2;15;15;15m  \x1b[0m 0f0f0f   kept       2/2     0             2d    -            -');
    expect(visibleWidth(lines[7]!.split('   ')[0]!)).toBe(9);
  });

  it('a color that is not hex gets a blank swatch', () => {
    expect(swatch('release-7')).toBe('  ');
    expect(swatch('ABCDEF99')).toBe('\x1b[48;2;171;205;239m  \x1b[0m');
  });

  it('an empty report prints nothing', () => {
    expect(formatTables({ generatedAt: NOW, apps: [] }, { swatch: false })).toBe('');
  });
});

describe('a shrunk color', () => {
  // a1b2c3 stopped serving 6.5 h ago and was shrunk from 4 pods to the 1 that still holds connections.
  const shrunk = () =>
    buildStatus({
      services: [service({ color: '3c3fdc', annotations: { 'rainbow.dev/keep-colors': '0' } })],
      deployments: [
        deployment({ color: '3c3fdc', created: '2025-11-25T12:00:00Z' }),
        deployment({ color: 'a1b2c3', replicas: 1, created: '2025-11-23T12:00:00Z', annotations: { 'rainbow.dev/drain-started': '2025-11-26T05:30:00Z', 'rainbow.dev/shrunk-from': '4' } }),
      ],
      probes: probes({ [`${NS}/web`]: { '3c3fdc': { count: 14 }, a1b2c3: { count: 3 } } }),
      now: NOW,
    });

  it('shows its pods left out of the replicas it had', () => {
    expect(formatTables(shrunk(), { swatch: false })).toBe(
      [
        'shop/web: Service web → 3c3fdc',
        'COLOR    STATE      READY                 CONNECTIONS   AGE   DRAIN-LEFT   FORECAST',
        '3c3fdc   serving    2/2                   14            24h   -            -',
        'a1b2c3   draining   1/1 (shrunk from 4)   3             3d    41h          -',
        '',
      ].join('\n'),
    );
  });

  it('JSON: shrunkFrom, and the app\'s shrink setting', () => {
    const doc = JSON.parse(formatJson(shrunk()));
    expect(doc.apps[0].settings.shrink).toBe(true);
    expect(doc.apps[0].colors[1]).toMatchObject({ color: 'a1b2c3', state: 'draining', readyReplicas: 1, desiredReplicas: 1, shrunkFrom: 4, available: false, connections: 3 });
  });
});

describe('the FORECAST column', () => {
  // The controller's rainbow.dev/drain-forecast on each draining color: a range, one ending at max-drain,
  // an open one, an unknown one, an unreadable one, and a stale one on a kept color.
  const forecasts = () => {
    const draining = (color: string, day: number, forecast?: string) =>
      deployment({ color, created: `2025-11-1${day}T12:00:00Z`, annotations: { 'rainbow.dev/drain-started': '2025-11-26T06:00:00Z', ...(forecast ? { 'rainbow.dev/drain-forecast': forecast } : {}) } });
    return buildStatus({
      services: [service({ color: '3c3fdc', annotations: { 'rainbow.dev/keep-colors': '1' } })],
      deployments: [
        deployment({ color: '3c3fdc', created: '2025-11-25T12:00:00Z' }),
        draining('0f0f0f', 9, '{"unknown":"1 sample","computedAt":"2025-11-26T06:00:10Z"}'),
        draining('aaaaaa', 8, '{"earliest":"2025-11-26T13:30:00Z","latest":"2025-11-27T06:00:00Z","remaining":120,"computedAt":"2025-11-26T11:50:00Z"}'),
        draining('bbbbbb', 7, '{"earliest":"2025-11-28T06:00:00Z","latest":"2025-11-28T06:00:00Z","deadlineFirst":true,"remaining":2,"computedAt":"2025-11-26T11:50:00Z"}'),
        draining('cccccc', 6, '{"earliest":"2025-11-26T12:04:30Z","remaining":4,"computedAt":"2025-11-26T11:00:00Z"}'),
        draining('dddddd', 5, '{"unknown":"5 samples","computedAt":"2025-11-26T11:58:00Z"}'),
        draining('eeeeee', 4, 'in 2h'),
        draining('ffffff', 3),
      ],
      probes: probes({ [`${NS}/web`]: { '3c3fdc': { count: 14 }, '0f0f0f': { count: 2 }, aaaaaa: { count: 90 }, bbbbbb: { count: 2 }, cccccc: { count: 4 }, dddddd: { count: 30 }, eeeeee: { count: 1 }, ffffff: { count: 9 } } }),
      now: NOW,
    });
  };

  it('shows each draining color\'s published forecast relative to now, and "-" for the rest', () => {
    expect(formatTables(forecasts(), { swatch: false })).toBe(
      [
        'shop/web: Service web → 3c3fdc',
        'COLOR    STATE      READY   CONNECTIONS   AGE   DRAIN-LEFT   FORECAST',
        '3c3fdc   serving    2/2     14            24h   -            -',
        '0f0f0f   kept       2/2     2             7d    -            -',
        'aaaaaa   draining   2/2     90            8d    42h          in 1h30m–18h',
        'bbbbbb   draining   2/2     2             9d    42h          by max-drain (in 42h)',
        'cccccc   draining   2/2     4             10d   42h          in 4m30s or later',
        'dddddd   draining   2/2     30            11d   42h          unknown (5 samples)',
        'eeeeee   draining   2/2     1             12d   42h          unknown (unreadable annotation)',
        'ffffff   draining   2/2     9             13d   42h          -',
        'warning: Deployment web-eeeeee: rainbow.dev/drain-forecast is not readable (not JSON); its forecast is shown as unknown',
        '',
      ].join('\n'),
    );
  });

  it('recomputes the relative times at the time asked', () => {
    const later = formatTables(forecasts(), { swatch: false, now: new Date('2025-11-26T14:00:00Z') }).split('\n');
    expect(later[4]).toBe('aaaaaa   draining   2/2     90            8d     40h          in 0s–16h');
    expect(later[6]).toBe('cccccc   draining   2/2     4             10d    40h          in 0s or later');
  });

  it('JSON: the forecast as published, with its text', () => {
    const colors = JSON.parse(formatJson(forecasts())).apps[0].colors;
    expect(colors.map((c: { color: string; forecast: { text: string } | null }) => `${c.color}:${c.forecast?.text ?? null}`)).toEqual([
      '3c3fdc:null',
      '0f0f0f:null',
      'aaaaaa:in 1h30m–18h',
      'bbbbbb:by max-drain (in 42h)',
      'cccccc:in 4m30s or later',
      'dddddd:unknown (5 samples)',
      'eeeeee:unknown (unreadable annotation)',
      'ffffff:null',
    ]);
    expect(colors[3].forecast).toEqual({
      kind: 'estimate',
      text: 'by max-drain (in 42h)',
      earliest: '2025-11-28T06:00:00.000Z',
      latest: '2025-11-28T06:00:00.000Z',
      deadlineFirst: true,
      remaining: 2,
      reason: null,
      computedAt: '2025-11-26T11:50:00.000Z',
    });
    expect(colors[4].forecast).toMatchObject({ latest: null, remaining: 4 });
    expect(colors[5].forecast).toEqual({ kind: 'unknown', text: 'unknown (5 samples)', earliest: null, latest: null, deadlineFirst: null, remaining: null, reason: '5 samples', computedAt: '2025-11-26T11:58:00.000Z' });
    expect(colors[6].forecast).toMatchObject({ kind: 'unknown', reason: 'unreadable annotation', computedAt: null });
  });
});

describe('true color detection', () => {
  it('only on a terminal announcing 24-bit color, never with NO_COLOR', () => {
    expect(wantsTrueColor(true, { COLORTERM: 'truecolor' })).toBe(true);
    expect(wantsTrueColor(true, { COLORTERM: '24bit' })).toBe(true);
    expect(wantsTrueColor(true, { COLORTERM: 'TrueColor' })).toBe(true);
    expect(wantsTrueColor(true, {})).toBe(false);
    expect(wantsTrueColor(true, { COLORTERM: 'yes' })).toBe(false);
    expect(wantsTrueColor(false, { COLORTERM: 'truecolor' })).toBe(false);
    expect(wantsTrueColor(undefined, { COLORTERM: 'truecolor' })).toBe(false);
    expect(wantsTrueColor(true, { COLORTERM: 'truecolor', NO_COLOR: '1' })).toBe(false);
    expect(wantsTrueColor(true, { COLORTERM: 'truecolor', NO_COLOR: '' })).toBe(true);
  });
});

describe('humanDuration (kubectl AGE)', () => {
  it.each([
    [-5, '<invalid>'],
    [-0.5, '0s'],
    [0, '0s'],
    [119, '119s'],
    [120, '2m'],
    [125, '2m5s'],
    [599, '9m59s'],
    [600, '10m'],
    [3 * 3600 - 1, '179m'],
    [3 * 3600, '3h'],
    [7 * 3600 + 59 * 60, '7h59m'],
    [8 * 3600, '8h'],
    [47 * 3600, '47h'],
    [48 * 3600, '2d'],
    [7 * 86400 + 23 * 3600, '7d23h'],
    [8 * 86400, '8d'],
    [729 * 86400, '729d'],
    [730 * 86400, '2y'],
    [731 * 86400, '2y1d'],
    [8 * 365 * 86400, '8y'],
  ])('%d s → %s', (s, want) => expect(humanDuration(s)).toBe(want));
});

describe('status JSON', () => {
  it('golden: every key present, in a fixed order', () => {
    const doc = JSON.parse(formatJson(report()));
    expect(Object.keys(doc)).toEqual(['apiVersion', 'kind', 'generatedAt', 'apps']);
    expect(doc.apiVersion).toBe('rainbow.dev/v1alpha1');
    expect(doc.kind).toBe('Status');
    expect(doc.generatedAt).toBe('2025-11-26T12:00:00.000Z');
    const web = doc.apps[1];
    expect(web.settings).toEqual({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 172800, shrink: true });
    expect(Object.keys(web)).toEqual(['namespace', 'app', 'settings', 'uninstall', 'services', 'colors', 'warnings']);
    expect(web.uninstall).toBeNull();
    expect(web.services).toEqual([{ name: 'web', color: '3c3fdc', pendingColor: 'b2c3d4' }]);
    expect(web.colors[0]).toEqual({
      color: '3c3fdc',
      css: '#3c3fdc',
      state: 'serving',
      stateLabel: 'serving',
      deployment: 'web-3c3fdc',
      readyReplicas: 2,
      desiredReplicas: 2,
      shrunkFrom: null,
      available: true,
      connections: 14,
      connectionsError: null,
      createdAt: '2025-11-25T12:00:00.000Z',
      ageSeconds: 86400,
      drainStartedAt: null,
      drainDeadline: null,
      drainLeftSeconds: null,
      forecast: null,
    });
    expect(web.colors[3]).toMatchObject({
      color: 'a1b2c3',
      forecast: {
        kind: 'estimate',
        text: 'in 2h–5h',
        earliest: '2025-11-26T14:00:00.000Z',
        latest: '2025-11-26T17:00:00.000Z',
        deadlineFirst: false,
        remaining: 3,
        reason: null,
        computedAt: '2025-11-26T11:57:00.000Z',
      },
    });
    expect(Object.keys(web.colors[3].forecast)).toEqual(['kind', 'text', 'earliest', 'latest', 'deadlineFirst', 'remaining', 'reason', 'computedAt']);
    expect(web.colors[5]).toMatchObject({
      color: '77aa00',
      state: 'draining',
      connections: null,
      connectionsError: 'pod web-77aa00-x1: connection refused at 127.0.10.9:9471',
      drainStartedAt: '2025-11-24T10:00:00.000Z',
      drainDeadline: '2025-11-26T10:00:00.000Z',
      drainLeftSeconds: -7200,
    });
  });

  it('compact for --watch: one line per document', () => {
    const text = formatJson(report(), true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('an uninstalled app', () => {
  const SETTINGS = JSON.stringify({ keepColors: 1, drainGraceSeconds: 5, maxDrainSeconds: 3600, shrink: true });
  const colors = (since: string) => [
    deployment({ color: 'b4d5e6', created: '2025-11-26T11:00:00Z', annotations: { 'rainbow.dev/served-at': '2025-11-26T11:00:30Z', 'rainbow.dev/drain-settings': SETTINGS, 'rainbow.dev/no-service-since': since, 'rainbow.dev/drain-started': since } }),
    deployment({ color: 'a1b2c3', created: '2025-11-26T10:00:00Z', annotations: { 'rainbow.dev/drain-started': '2025-11-26T11:00:30Z', 'rainbow.dev/drain-settings': SETTINGS, 'rainbow.dev/no-service-since': since } }),
  ];
  const statusAt = (since: string) =>
    buildStatus({ services: [], deployments: colors(since), probes: probes({ [`${NS}/web`]: { b4d5e6: { count: 2 }, a1b2c3: { count: 0 } } }), now: NOW });

  it('says `draining (app uninstalled)` and the time left to max-drain (the settings kept on its Deployments)', () => {
    const r = statusAt('2025-11-26T11:40:00Z');
    expect(formatTables(r, { swatch: false })).toBe(
      [
        'shop/web: no Service since 2025-11-26T11:40:00Z: app uninstalled, its colors drain',
        'COLOR    STATE                        READY   CONNECTIONS   AGE    DRAIN-LEFT   FORECAST',
        'b4d5e6   draining (app uninstalled)   2/2     2             60m    40m          -',
        'a1b2c3   drained (app uninstalled)    2/2     0             120m   30s          -',
        '',
      ].join('\n'),
    );
    const doc = JSON.parse(formatJson(r));
    expect(doc.apps[0].uninstall).toEqual({ noServiceSince: '2025-11-26T11:40:00.000Z', uninstallAt: '2025-11-26T11:40:30.000Z', uninstalled: true });
    expect(doc.apps[0].settings).toEqual({ keepColors: 0, drainGraceSeconds: 5, maxDrainSeconds: 3600, shrink: true });
    expect(doc.apps[0].colors.map((c: { state: string; stateLabel: string }) => [c.state, c.stateLabel])).toEqual([
      ['draining', 'draining (app uninstalled)'],
      ['drained', 'drained (app uninstalled)'],
    ]);
  });

  it('within the uninstall grace: when it will count as uninstalled, and the colors as they were', () => {
    const table = formatTables(statusAt('2025-11-26T11:59:50Z'), { swatch: false });
    expect(table.split('\n')[0]).toBe('shop/web: no Service since 2025-11-26T11:59:50Z: counts as uninstalled in 20s unless one comes back');
    expect(table).toMatch(/^b4d5e6   kept\s/m);
    expect(table).toContain('warning: app web has had no Service since 2025-11-26T11:59:50Z: unless one labelled rainbow.dev/app=web comes back by 2025-11-26T12:00:20Z');
  });
});
