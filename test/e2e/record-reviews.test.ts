// `scripts/local-cluster record-reviews` on the real API server: a review is recorded for each way
// a color's pods can go, and the chart's objectSelector reaches the Deployment, ReplicaSet and pod
// requests but never a Scale or an Eviction (they carry no labels).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordReviews } from '../../scripts/cluster/record-reviews.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-recorded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('every way a pod can go is recorded; the objectSelector never lets a Scale or an Eviction through', async () => {
  await recordReviews(dir);
  // <seq>-<resource>[-<subresource>]-<operation>-<name>.<entry>.json
  const seen = new Set(
    readdirSync(dir).flatMap((f) => {
      const m = /^\d+-([a-z]+)(?:-(scale|eviction))?-(create|update|delete)-.+\.(selected|unselected)\.json$/.exec(f);
      return m ? [`${m[1]}${m[2] ? `/${m[2]}` : ''} ${m[3]} ${m[4]}`] : [`unexpected file ${f}`];
    }),
  );
  expect([...seen].sort()).toEqual([
    'deployments update selected',
    'deployments/scale update unselected',
    'pods delete selected',
    'pods/eviction create unselected',
    'replicasets update selected',
    'replicasets/scale update unselected',
  ]);
});
