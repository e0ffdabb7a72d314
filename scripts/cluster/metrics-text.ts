// Reading one figure off a Prometheus text page (/metrics of the webhook, the controller or the
// API server), for the benchmarks and the e2e tests.

/** Sum of the samples of `name` in Prometheus text whose label set contains `labels`. */
export function sumMetric(text: string, name: string, labels = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
