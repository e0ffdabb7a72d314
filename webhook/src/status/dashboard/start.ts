// Starting the dashboard: the feed sampling the cluster (or whatever `collect` a caller passes),
// the HTTP server on --bind/--port, and one way to stop both.
import { listen } from '../../runtime/listen.js';
import { DashboardFeed, type Collect, type FeedOptions, type ListEvents } from './feed.js';
import { createDashboardServer } from './server.js';
import { dashboardForecast } from './forecast.js';

export interface StartOptions {
  collect: Collect;
  listEvents?: ListEvents;
  port: number;
  bind: string;
  intervalMs: number;
  /** What is shown, in words. */
  scope: string;
  /** The command as typed, for errors (`rainbow dashboard`). */
  prog?: string;
  /** Default: dashboardForecast (forecast.ts). */
  forecast?: FeedOptions['forecast'];
  store?: FeedOptions['store'];
  onReadError?: FeedOptions['onReadError'];
}

export interface RunningDashboard {
  url: string;
  port: number;
  feed: DashboardFeed;
  /** Stops sampling, ends the event streams and closes the server. */
  close(): Promise<void>;
}

/** What to tell the user when the server cannot listen, by the error code. */
export function listenErrorMessage(code: string | undefined, port: number, bind: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return `--port ${port} is in use on ${bind} (another dashboard or program listens there); pass --port N, or --port 0 for any free port`;
    case 'EACCES':
      return `--port ${port} needs privileges on this machine; pass --port N above 1023`;
    case 'EADDRNOTAVAIL':
      return `--bind ${bind} is not an address of this machine; pass --bind 127.0.0.1 (the default) or one of its addresses`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `--bind ${bind} is not an address or a name this machine resolves; pass --bind 127.0.0.1`;
    default:
      return `cannot listen on ${bind}:${port} (${code ?? 'unknown error'}); pass another --port or --bind`;
  }
}

export async function startDashboard(opts: StartOptions): Promise<RunningDashboard> {
  const prog = opts.prog ?? 'rainbow dashboard';
  const feed = new DashboardFeed({
    collect: opts.collect,
    ...(opts.listEvents ? { listEvents: opts.listEvents } : {}),
    intervalMs: opts.intervalMs,
    scope: opts.scope,
    forecast: opts.forecast ?? dashboardForecast,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.onReadError ? { onReadError: opts.onReadError } : {}),
  });
  const dashboard = createDashboardServer(feed, { bind: opts.bind, retryMs: Math.min(5000, Math.max(1000, opts.intervalMs)) });
  let listening;
  try {
    listening = await listen(dashboard.server, { port: opts.port, bind: opts.bind, name: prog, flag: 'port' });
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    throw new Error(listenErrorMessage(code, opts.port, opts.bind), { cause: err });
  }
  feed.start();
  const running = listening;
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    feed,
    close: () =>
      (closing ??= (async () => {
        await feed.stop();
        dashboard.closeStreams();
        await running.close(1000);
      })()),
  };
}
