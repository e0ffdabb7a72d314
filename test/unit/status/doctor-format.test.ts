// rainbow doctor's output: the table grouped by area with its summary, the JSON document, and the exit code.
import { doctorDocument, formatJson, formatTable, summaryLine, wrap } from '../../../webhook/src/status/doctor/format.js';
import { wantsColor } from '../../../webhook/src/status/format.js';
import { exitCode, fail, ok, warn, type CheckResult } from '../../../webhook/src/status/doctor/result.js';
import { exitFor, UsageError } from '../../../webhook/src/runtime/flags.js';
import { NOW } from './doctor-fixture.js';

const results: CheckResult[] = [
  fail('apps', 'shop/web', 'Service web has no rainbow.dev/color in its selector', 'select one color'),
  ok('datapath', 'kube-proxy', 'nftables mode from config.conf of ConfigMap kube-system/kube-proxy'),
  warn('conntrack', 'shop/web', 'conntrack forgets an idle flow after 1h, and max-drain is 2h', 'raise conntrack.tcpEstablishedTimeout'),
  ok('datapath', 'cilium', 'not installed'),
];

describe('table', () => {
  it('groups by area in a fixed order, wraps findings under their column and ends with the summary', () => {
    expect(formatTable(results, { color: false, width: 60 })).toBe(
      [
        'datapath',
        '  ok    kube-proxy  nftables mode from config.conf of',
        '                    ConfigMap kube-system/kube-proxy',
        '  ok    cilium      not installed',
        '',
        'conntrack',
        '  warn  shop/web    conntrack forgets an idle flow after 1h,',
        '                    and max-drain is 2h',
        '                    fix: raise',
        '                    conntrack.tcpEstablishedTimeout',
        '',
        'apps',
        '  fail  shop/web    Service web has no rainbow.dev/color in',
        '                    its selector',
        '                    fix: select one color',
        '',
        '2 ok, 1 warn, 1 fail',
        '',
      ].join('\n'),
    );
  });

  it('colors only the status cell', () => {
    const text = formatTable([ok('datapath', 'a', 'x'), warn('datapath', 'b', 'y', 'z'), fail('datapath', 'c', 'w', 'v')], { color: true, width: 100 });
    expect(text).toBe(
      ['datapath', '  \x1b[32mok  \x1b[0m  a  x', '  \x1b[33mwarn\x1b[0m  b  y', '           fix: z', '  \x1b[31mfail\x1b[0m  c  w', '           fix: v', '', '1 ok, 1 warn, 1 fail', ''].join('\n'),
    );
  });

  it('gives a check name longer than the column a line of its own', () => {
    const long = 'Service a-long-namespace/web-lb';
    expect(formatTable([ok('load balancers', 'Services', 'none'), warn('load balancers', long, 'short delay', 'raise it')], { color: false, width: 100 })).toBe(
      ['load balancers', '  ok    Services  none', `  warn  ${long}`, '                  short delay', '                  fix: raise it', '', '1 ok, 1 warn, 0 fail', ''].join('\n'),
    );
  });

  it('wraps words, giving a longer word a line of its own', () => {
    expect(wrap('a bb ccc dddddddddd e', 6)).toEqual(['a bb', 'ccc', 'dddddddddd', 'e']);
    expect(wrap('', 6)).toEqual(['']);
    expect(summaryLine([])).toBe('0 ok, 0 warn, 0 fail');
  });

  it('uses colors on a terminal only, never with NO_COLOR', () => {
    expect(wantsColor(true, {})).toBe(true);
    expect(wantsColor(false, {})).toBe(false);
    expect(wantsColor(undefined, {})).toBe(false);
    expect(wantsColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor(true, { NO_COLOR: '' })).toBe(true);
  });
});

describe('JSON', () => {
  it('is a versioned document with every key present, in area order', () => {
    expect(doctorDocument(results, { generatedAt: NOW, cliVersion: '0.1.0', namespace: 'shop' })).toEqual({
      apiVersion: 'rainbow.dev/v1alpha1',
      kind: 'Doctor',
      generatedAt: '2026-03-02T10:00:00.000Z',
      cliVersion: '0.1.0',
      namespace: 'shop',
      summary: { ok: 2, warn: 1, fail: 1 },
      exitCode: 2,
      checks: [
        { area: 'datapath', check: 'kube-proxy', status: 'ok', finding: 'nftables mode from config.conf of ConfigMap kube-system/kube-proxy', fix: null },
        { area: 'datapath', check: 'cilium', status: 'ok', finding: 'not installed', fix: null },
        { area: 'conntrack', check: 'shop/web', status: 'warn', finding: 'conntrack forgets an idle flow after 1h, and max-drain is 2h', fix: 'raise conntrack.tcpEstablishedTimeout' },
        { area: 'apps', check: 'shop/web', status: 'fail', finding: 'Service web has no rainbow.dev/color in its selector', fix: 'select one color' },
      ],
    });
    const text = formatJson([ok('apps', 'apps', 'none')], { generatedAt: NOW, cliVersion: '0.1.0' });
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ namespace: null, exitCode: 0, summary: { ok: 1, warn: 0, fail: 0 } });
  });
});

describe('exit code', () => {
  it('is 0 when all is ok, 1 with a warning, 2 with a failure; a usage error exits 2 too', () => {
    expect(exitCode([ok('apps', 'a', 'x')])).toBe(0);
    expect(exitCode([])).toBe(0);
    expect(exitCode([ok('apps', 'a', 'x'), warn('apps', 'b', 'y', 'z')])).toBe(1);
    expect(exitCode(results)).toBe(2);
    expect(exitFor('rainbow', new UsageError('rainbow doctor: bad'), { stdout: () => undefined, stderr: () => undefined })).toBe(2);
    expect(exitFor('rainbow', new Error('no cluster'), { stdout: () => undefined, stderr: () => undefined })).toBe(1);
  });
});
