// Listen on --port/--bind, name the address in a usable URL, and close again. Types only from
// node:net and node:http: the reporter loads this module and must not load node:http.
import type { AddressInfo, Server } from 'node:net';

/** A node:net server; node:http and node:https servers also drop idle and open connections. */
export type ListeningServer = Server & { closeIdleConnections?: () => void; closeAllConnections?: () => void };

export interface ListenOptions {
  port: number;
  /** Undefined listens on all interfaces. */
  bind?: string;
  /** Scheme of `url`; default http. */
  scheme?: string;
  /** Who listens, for the error: "<name> cannot listen on …". */
  name: string;
  /** The flag that picks the port, named in the error's advice. */
  flag?: string;
}

export interface Listening {
  /** e.g. http://127.0.0.1:9471, https://[::1]:8443 */
  url: string;
  address: AddressInfo;
  port: number;
  /**
   * Stop accepting and drop idle keep-alive connections; with `graceMs`, drop the rest after
   * it, else wait for them. Resolves once the server is closed; later calls return the same promise.
   */
  close(graceMs?: number): Promise<void>;
}

/** The host of a URL: IPv6 addresses in brackets. */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** `scheme://host:port` of a listening address. */
export function serverUrl(address: Pick<AddressInfo, 'address' | 'port'>, scheme = 'http'): string {
  return `${scheme}://${urlHost(address.address)}:${address.port}`;
}

export async function listen(server: ListeningServer, opts: ListenOptions): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const advice = opts.flag ? ` or pass --${opts.flag}` : '';
      reject(new Error(`${opts.name} cannot listen on ${opts.bind === undefined ? '*' : urlHost(opts.bind)}:${opts.port} (${err.code ?? err.message}); free the port${advice}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ port: opts.port, host: opts.bind }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: serverUrl(address, opts.scheme),
    address,
    port: address.port,
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        const force = graceMs === undefined ? undefined : setTimeout(() => server.closeAllConnections?.(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections?.();
      });
      return closing;
    },
  };
}
