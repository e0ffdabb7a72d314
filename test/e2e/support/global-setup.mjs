// Brings the local control plane up once per e2e run, or reuses one that is already running
// (then it is left running at the end). Plain ESM over the compiled scripts in dist/, because
// jest loads global setup outside its module transform; `npm test` compiles first.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { up, readState } from '../../../dist/scripts/cluster/control-plane.js';
import { stateDir } from '../../../dist/scripts/cluster/paths.js';

export const markerFile = path.join(stateDir, 'e2e-run.json');

export default async function globalSetup() {
  const reused = readState() !== undefined;
  const state = await up();
  writeFileSync(markerFile, JSON.stringify({ startedByTests: !reused, server: state.server }));
}
