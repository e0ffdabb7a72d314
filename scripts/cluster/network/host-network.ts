// What the host's own network namespace holds: its interfaces, addresses, routes and nft tables.
// The local cluster never changes any of it; `up` records it and the e2e tests compare.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface HostNetwork {
  interfaces: string[];
  addresses: string[];
  routes: string[];
  nftTables: string[];
}

async function json<T>(args: string[]): Promise<T[]> {
  return JSON.parse((await run('ip', ['-json', ...args], { encoding: 'utf8' })).stdout || '[]') as T[];
}

export async function hostNetwork(): Promise<HostNetwork> {
  const links = await json<{ ifname: string; link_type?: string }>(['link', 'show']);
  const addrs = await json<{ ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }>(['address', 'show']);
  const routes = await json<{ dst: string; dev?: string; gateway?: string; table?: string; type?: string }>(['route', 'show', 'table', 'all']);
  let nftTables: string[] = [];
  try {
    nftTables = (await run('nft', ['list', 'tables'], { encoding: 'utf8' })).stdout.split('\n').filter(Boolean).sort();
  } catch {
    // Without the privilege to read nft, there is nothing of ours to see there either.
  }
  return {
    interfaces: links.map((l) => `${l.ifname} ${l.link_type ?? ''}`.trim()).sort(),
    addresses: addrs.flatMap((a) => (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => `${a.ifname} ${i.local}/${i.prefixlen}`)).sort(),
    routes: routes.map((r) => [r.table ?? 'main', r.type ?? 'unicast', r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : ''].filter(Boolean).join(' ')).sort(),
    nftTables,
  };
}
