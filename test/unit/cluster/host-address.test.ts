// Host loopback address claims of local clusters (claim files in the machine's temp folder): who
// may take an address, when a claim is free again, and that a cluster releases only its own.
// Only 127.0.0.250–253 are used, so the claims of a real cluster on this machine are not touched.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, rmdirSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { claimHostAddress, releaseHostAddress, transferClaim } from '../../../scripts/cluster/network/host-address.js';
import { startTicksOf } from '../../../scripts/cluster/processes.js';

const claimsDir = path.join(os.tmpdir(), 'rainbow-local-clusters');
const ADDRESSES = ['127.0.0.250', '127.0.0.251', '127.0.0.252', '127.0.0.253'];
// State folders of two pretend clusters; they are only names in the claims and are never created.
const A = path.join(os.tmpdir(), `rainbow-host-address-test-${process.pid}-a`);
const B = path.join(os.tmpdir(), `rainbow-host-address-test-${process.pid}-b`);
const alive = { pid: process.pid, startTicks: startTicksOf(process.pid)! };
/** A process that has exited (spawnSync waits for it and reaps it). */
const gone = { pid: spawnSync(process.execPath, ['-e', '']).pid!, startTicks: '' };
/** Our PID, but not our start time: what a claim of a process whose PID was recycled looks like. */
const recycled = { pid: process.pid, startTicks: '1' };

const file = (address: string) => path.join(claimsDir, address);
const claimOf = (address: string) => JSON.parse(readFileSync(file(address), 'utf8')) as { stateDir: string; pid: number; startTicks: string };
let dirExisted = false;

beforeAll(() => {
  dirExisted = existsSync(claimsDir);
  const taken = ADDRESSES.filter((a) => existsSync(file(a)));
  if (taken.length) throw new Error(`${taken.join(', ')} already claimed in ${claimsDir}; a local cluster may be using them, so these tests do not run`);
});

afterEach(() => {
  for (const a of ADDRESSES) {
    if (existsSync(file(a)) && [A, B].includes(claimOf(a).stateDir)) rmSync(file(a));
  }
});

afterAll(() => {
  if (dirExisted) return;
  try {
    rmdirSync(claimsDir); // only when empty: a cluster may have claimed an address meanwhile
  } catch {
    /* not empty */
  }
});

test('a claim names the state folder and its holder, and releasing it removes the file', async () => {
  await expect(claimHostAddress(A, 0, alive, '127.0.0.250')).resolves.toBe('127.0.0.250');
  expect(claimOf('127.0.0.250')).toEqual({ stateDir: A, ...alive });
  releaseHostAddress('127.0.0.250', A);
  expect(existsSync(file('127.0.0.250'))).toBe(false);
});

test('a claim held by a live process keeps another state folder off that wanted address', async () => {
  await claimHostAddress(A, 0, alive, '127.0.0.251');
  await expect(claimHostAddress(B, 0, alive, '127.0.0.251')).rejects.toThrow(`127.0.0.251 is held by the local cluster in ${A}; choose another RAINBOW_CLUSTER_HOST or stop that cluster`);
  expect(claimOf('127.0.0.251')).toEqual({ stateDir: A, ...alive });
});

test('a claim whose holder has exited is taken over', async () => {
  await claimHostAddress(A, 0, gone, '127.0.0.252');
  await expect(claimHostAddress(B, 0, alive, '127.0.0.252')).resolves.toBe('127.0.0.252');
  expect(claimOf('127.0.0.252')).toEqual({ stateDir: B, ...alive });
});

test('a claim whose PID now belongs to a later process is taken over', async () => {
  await claimHostAddress(A, 0, recycled, '127.0.0.252');
  await expect(claimHostAddress(B, 0, alive, '127.0.0.252')).resolves.toBe('127.0.0.252');
  expect(claimOf('127.0.0.252').stateDir).toBe(B);
});

test('a state folder gets its own address back, asked for or not, with the new holder', async () => {
  await claimHostAddress(A, 0, alive, '127.0.0.253');
  await expect(claimHostAddress(A, 0, recycled, '127.0.0.253')).resolves.toBe('127.0.0.253');
  expect(claimOf('127.0.0.253')).toEqual({ stateDir: A, ...recycled });
  // Without `wanted` the scan from 127.0.0.2 finds the state folder's own claim first.
  const found = await claimHostAddress(A, 0, alive);
  if (found !== '127.0.0.253') releaseHostAddress(found, A); // not ours to keep
  expect(found).toBe('127.0.0.253');
  expect(claimOf('127.0.0.253')).toEqual({ stateDir: A, ...alive });
});

test('after transferClaim the new holder keeps the address, and when it exits the address is free', async () => {
  await claimHostAddress(A, 0, gone, '127.0.0.250');
  transferClaim('127.0.0.250', A, alive);
  expect(claimOf('127.0.0.250')).toEqual({ stateDir: A, ...alive });
  await expect(claimHostAddress(B, 0, alive, '127.0.0.250')).rejects.toThrow(Error);
  transferClaim('127.0.0.250', A, gone);
  await expect(claimHostAddress(B, 0, alive, '127.0.0.250')).resolves.toBe('127.0.0.250');
});

test('release removes only the releasing state folder\'s own claim', async () => {
  await claimHostAddress(A, 0, alive, '127.0.0.251');
  releaseHostAddress('127.0.0.251', B);
  expect(claimOf('127.0.0.251').stateDir).toBe(A);
  releaseHostAddress('127.0.0.251', A);
  expect(existsSync(file('127.0.0.251'))).toBe(false);
  expect(() => releaseHostAddress('127.0.0.251', A)).not.toThrow();
});

test('a wanted address whose port another program holds is refused and left unclaimed', async () => {
  const other = net.createServer();
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.252', resolve));
  const { port } = other.address() as net.AddressInfo;
  try {
    await expect(claimHostAddress(A, port, alive, '127.0.0.252')).rejects.toThrow(`127.0.0.252:${port} is in use by another program`);
    expect(existsSync(file('127.0.0.252'))).toBe(false);
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});

test('a wanted address that is not on loopback, or not an address, is refused before any claim is written', async () => {
  for (const bad of ['10.0.0.5', '../rainbow-claim-escape-test', '127.0.0.1.5', 'localhost']) {
    await expect(claimHostAddress(A, 0, alive, bad)).rejects.toThrow('is not a loopback address (127.x.y.z)');
  }
  expect(existsSync(path.join(claimsDir, '..', 'rainbow-claim-escape-test'))).toBe(false);
});

test('a claim file left unreadable by a crash is taken over once it is a few seconds old', async () => {
  writeFileSync(file('127.0.0.252'), '');
  await expect(claimHostAddress(A, 0, alive, '127.0.0.252')).rejects.toThrow();
  const old = new Date(Date.now() - 10_000);
  utimesSync(file('127.0.0.252'), old, old);
  expect(await claimHostAddress(A, 0, alive, '127.0.0.252')).toBe('127.0.0.252');
  expect(claimOf('127.0.0.252')).toEqual({ stateDir: A, ...alive });
});
