import { dashboardForecast } from '../../../webhook/src/status/dashboard/forecast.js';
import type { CountSample } from '../../../webhook/src/status/dashboard/view.js';
import type { ColorRow } from '../../../webhook/src/status/model.js';
import { OLD, SERVING, fakeReport } from './dashboard-fixture.js';

const now = new Date('2026-12-02T12:00:00Z');
const rows = () => fakeReport(now, { serving: 3, old: 40 }).apps.find((a) => a.app === 'web')!;
const old = (): ColorRow => rows().colors.find((c) => c.color === OLD)!;
const serving = (): ColorRow => rows().colors.find((c) => c.color === SERVING)!;

/** One count a minute over the last `minutes`, falling from 400 by a fixed share each minute. */
function decay(minutes: number, share: number): CountSample[] {
  return Array.from({ length: minutes + 1 }, (_, i) => ({ at: now.getTime() - (minutes - i) * 60_000, count: Math.round(400 * (1 - share) ** i) }));
}

const input = (color: ColorRow, samples: CountSample[]) => ({ app: rows(), color, now, samples: (from?: number) => samples.filter((s) => from === undefined || s.at >= from) });

describe('dashboardForecast', () => {
  it('says nothing for a color that is not draining', () => {
    expect(dashboardForecast(input(serving(), decay(30, 0.05)))).toBeUndefined();
  });

  it('says why it does not know yet when neither the controller nor the page has enough', () => {
    expect(dashboardForecast(input(old(), decay(2, 0.05)))).toBe('unknown (3 samples)');
  });

  it("estimates from the page's own samples since drain-started, and says so", () => {
    // Samples from before drain-started are not its drain: five minutes of them are too few.
    const recent = { ...old(), drainStartedAt: new Date(now.getTime() - 5 * 60_000) };
    expect(dashboardForecast(input(recent, decay(60, 0.03)))).toBe('unknown (5m observed)');
    const long = { ...old(), drainStartedAt: new Date(now.getTime() - 60 * 60_000) };
    expect(dashboardForecast(input(long, decay(60, 0.03)))).toMatch(/^in \S+–\S+ (\(max-drain\) )?\(from this page's samples\)$/);
  });

  it("prefers the controller's published estimate, which has watched the whole drain", () => {
    const row: ColorRow = { ...old(), forecast: { kind: 'estimate', earliest: new Date(now.getTime() + 2 * 3600_000), latest: new Date(now.getTime() + 5 * 3600_000), deadlineFirst: false, remaining: 40, computedAt: now } };
    expect(dashboardForecast(input(row, decay(60, 0.03)))).toBe('in 2h–5h');
  });

  it("shows the controller's unknown when the page cannot estimate either", () => {
    const row: ColorRow = { ...old(), forecast: { kind: 'unknown', reason: '4 samples', computedAt: now } };
    expect(dashboardForecast(input(row, decay(2, 0.05)))).toBe('unknown (4 samples)');
  });
});
