// Stops the local control plane if this e2e run started it (set RAINBOW_KEEP_CLUSTER=1 to keep it).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { down } from '../../../dist/scripts/cluster/control-plane.js';
import { markerFile } from './global-setup.mjs';

export default async function globalTeardown() {
  if (!existsSync(markerFile)) return;
  const { startedByTests } = JSON.parse(readFileSync(markerFile, 'utf8'));
  rmSync(markerFile, { force: true });
  if (startedByTests && !process.env.RAINBOW_KEEP_CLUSTER) await down();
}
