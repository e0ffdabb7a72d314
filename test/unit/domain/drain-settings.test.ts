// The app's drain settings as the controller keeps them on each color (rainbow.dev/drain-settings), and rainbow.dev/on-uninstall.
import { formatDrainSettings, onUninstall, parseDrainSettings, persistedDrainSettings } from '../../../webhook/src/domain/drain-settings.js';

const S = { keepColors: 2, drainGraceSeconds: 1.5, maxDrainSeconds: 3600, shrink: false };
const withSettings = (name: string, raw?: string): { metadata: { name: string; annotations: Record<string, string> } } => ({
  metadata: { name, annotations: raw === undefined ? {} : { 'rainbow.dev/drain-settings': raw } },
});

describe('rainbow.dev/drain-settings', () => {
  it('round-trips exactly, seconds and all', () => {
    expect(formatDrainSettings(S)).toBe('{"keepColors":2,"drainGraceSeconds":1.5,"maxDrainSeconds":3600,"shrink":false}');
    expect(parseDrainSettings(formatDrainSettings(S))).toEqual({ settings: S });
    expect(parseDrainSettings(undefined)).toEqual({});
  });

  it('refuses anything but the full object', () => {
    expect(parseDrainSettings('nope').error).toBe('not JSON');
    expect(parseDrainSettings('[1]').error).toBe('not a JSON object');
    expect(parseDrainSettings('{"keepColors":1.5,"drainGraceSeconds":1,"maxDrainSeconds":1,"shrink":true}').error).toMatch(/keepColors/);
    expect(parseDrainSettings('{"keepColors":1,"drainGraceSeconds":-1,"maxDrainSeconds":1,"shrink":true}').error).toMatch(/drainGraceSeconds/);
    expect(parseDrainSettings('{"keepColors":1,"drainGraceSeconds":1,"shrink":true}').error).toMatch(/maxDrainSeconds/);
    expect(parseDrainSettings('{"keepColors":1,"drainGraceSeconds":1,"maxDrainSeconds":1,"shrink":"yes"}').error).toMatch(/shrink/);
  });

  it('several Deployments: the most conservative; none: the defaults; an unreadable one counts as the defaults, with a warning', () => {
    const a = formatDrainSettings({ keepColors: 0, drainGraceSeconds: 5, maxDrainSeconds: 7200, shrink: true });
    const b = formatDrainSettings({ keepColors: 3, drainGraceSeconds: 1, maxDrainSeconds: 3600, shrink: false });
    expect(persistedDrainSettings([withSettings('x', a), withSettings('y', b), withSettings('z')])).toEqual({
      settings: { keepColors: 3, drainGraceSeconds: 5, maxDrainSeconds: 7200, shrink: false },
      warnings: [],
    });
    expect(persistedDrainSettings([withSettings('z')]).settings).toEqual({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 172800, shrink: true });
    const bad = persistedDrainSettings([withSettings('x', a), withSettings('web-1', '{')]);
    expect(bad.settings).toEqual({ keepColors: 1, drainGraceSeconds: 60, maxDrainSeconds: 172800, shrink: true });
    expect(bad.warnings).toEqual(['Deployment web-1: ignoring rainbow.dev/drain-settings (not JSON); using the defaults for it']);
  });
});

describe('rainbow.dev/on-uninstall', () => {
  const d = (v?: string): { metadata: { name: string; annotations: Record<string, string> } } => ({ metadata: { name: 'web-1', annotations: v === undefined ? {} : { 'rainbow.dev/on-uninstall': v } } });
  it('drain by default, keep or drain as written (any case), and keep with a warning for anything else', () => {
    expect(onUninstall(d())).toEqual({ keep: false });
    expect(onUninstall(d(' Keep '))).toEqual({ keep: true });
    expect(onUninstall(d('drain'))).toEqual({ keep: false });
    expect(onUninstall(d('true'))).toEqual({ keep: true, warning: 'Deployment web-1: rainbow.dev/on-uninstall="true" is neither keep nor drain; keeping the color when its app is uninstalled' });
  });
});
