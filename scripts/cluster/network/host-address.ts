// Each local cluster on a machine gets a host loopback address of its own (127.0.0.2, 127.0.0.3,
// …) for its forwards, so NodePorts keep their declared numbers and two clusters never collide.
// A claim is a file in the machine's temp folder naming the claiming cluster's state folder and
// the process that holds it; a claim whose process is gone is free again.
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from '../processes.js';

const claimsDir = path.join(os.tmpdir(), 'rainbow-local-clusters');

interface Claim {
  stateDir: string;
  pid: number;
  startTicks: string;
}

const claimFile = (address: string) => path.join(claimsDir, address);

function readClaim(address: string): Claim | undefined {
  try {
    return JSON.parse(readFileSync(claimFile(address), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/** A claim file that cannot be read a few seconds after it was made was left half-written by a crash. */
function isStaleUnreadable(address: string): boolean {
  try {
    return readClaim(address) === undefined && Date.now() - statSync(claimFile(address)).mtimeMs > 5_000;
  } catch {
    return false;
  }
}

function canListen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

/**
 * Claims an address for `stateDir`: the one it holds already, `wanted` if given, else the first
 * free one from 127.0.0.2 on whose `port` nothing listens. The claim names `holder` (a process of
 * the cluster) until `transferClaim` names another.
 */
export async function claimHostAddress(stateDir: string, port: number, holder: { pid: number; startTicks: string }, wanted?: string): Promise<string> {
  if (wanted !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(wanted)) {
    throw new Error(`RAINBOW_CLUSTER_HOST=${JSON.stringify(wanted)} is not a loopback address (127.x.y.z); the cluster's forwards listen only on loopback`);
  }
  mkdirSync(claimsDir, { recursive: true });
  // Shared by every user's clusters, like /tmp itself.
  try {
    chmodSync(claimsDir, 0o1777);
  } catch {
    /* made by another user, who set its mode */
  }
  const candidates = wanted ? [wanted] : Array.from({ length: 253 }, (_, i) => `127.0.0.${i + 2}`);
  const mine = candidates.find((a) => readClaim(a)?.stateDir === stateDir);
  for (const address of mine ? [mine, ...candidates] : candidates) {
    const claim = readClaim(address);
    if (claim && claim.stateDir !== stateDir && isRunning(claim)) {
      if (wanted) throw new Error(`${address} is held by the local cluster in ${claim.stateDir}; choose another RAINBOW_CLUSTER_HOST or stop that cluster`);
      continue;
    }
    if (claim || isStaleUnreadable(address)) rmSync(claimFile(address), { force: true });
    let fd: number;
    try {
      fd = openSync(claimFile(address), 'wx', 0o644);
    } catch {
      continue; // another cluster claimed it a moment ago
    }
    writeFileSync(fd, JSON.stringify({ stateDir, ...holder } satisfies Claim));
    closeSync(fd);
    if (await canListen(address, port)) return address;
    rmSync(claimFile(address), { force: true });
    if (wanted) throw new Error(`${address}:${port} is in use by another program; choose another RAINBOW_CLUSTER_HOST or stop it`);
  }
  throw new Error(`no host loopback address in 127.0.0.2–127.0.0.254 is free for a local cluster (each running cluster holds one; see ${claimsDir})`);
}

/** Names the process that keeps the claim from now on (the cluster's forwarder). */
export function transferClaim(address: string, stateDir: string, holder: { pid: number; startTicks: string }): void {
  writeFileSync(claimFile(address), JSON.stringify({ stateDir, ...holder } satisfies Claim));
}

export function releaseHostAddress(address: string, stateDir: string): void {
  if (readClaim(address)?.stateDir === stateDir) rmSync(claimFile(address), { force: true });
}
