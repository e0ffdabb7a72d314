// The dashboard's forecast of a draining color: the controller's published estimate first (it has
// watched the whole drain), else one from the dashboard's own samples, else why neither knows yet.
import { forecastDrain, formatForecast } from '../../domain/drain-forecast.js';
import { describePublishedForecast } from '../../domain/forecast-annotation.js';
import type { ForecastInput } from './view.js';

export function dashboardForecast({ color, now, samples }: ForecastInput): string | undefined {
  if (color.state !== 'draining') return undefined;
  const published = color.forecast;
  if (published?.kind === 'estimate') return describePublishedForecast(published, now);
  const own = forecastDrain(samples(color.drainStartedAt?.getTime()), now, color.drainDeadline);
  if (own.kind === 'estimate') return `${formatForecast(own, now)} (from this page's samples)`;
  return published ? describePublishedForecast(published, now) : formatForecast(own, now);
}
