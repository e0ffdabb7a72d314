// The Dockerfile cannot be built here (no container engine), so check what can be checked: every
// path it copies from the context exists, .dockerignore does not hide them, and the entrypoint
// it links is what `npm run build` produces.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../../scripts/cluster/paths.js';
import { cliNodeFlags, rainbowCommand } from '../../../scripts/cluster/rainbow-command.js';

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const contextCopies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));

test('every COPY source exists in the repository and is not ignored', () => {
  expect(contextCopies).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'webhook/src', 'app/src', 'tsconfig.image.json']));
  for (const src of contextCopies) {
    expect([src, existsSync(path.join(repoRoot, src))]).toEqual([src, true]);
    expect(ignored.some((i) => src === i || src.startsWith(`${i}/`))).toBe(false);
  }
});

test('the entrypoint the image links is the compiled CLI, with a node shebang and its flags', () => {
  const link = /ln -s (\S+) \/usr\/local\/bin\/rainbow/.exec(dockerfile)?.[1];
  expect(link).toBe('/app/dist/webhook/src/cli.js');
  const built = path.join(repoRoot, 'dist', 'webhook', 'src', 'cli.js');
  expect(existsSync(built)).toBe(true);
  expect(readFileSync(built, 'utf8').startsWith('#!/usr/bin/env -S node --single-threaded-gc\n')).toBe(true);
  // The local cluster, the e2e tests and the benchmarks run it with the same flags.
  expect(cliNodeFlags()).toEqual(['--single-threaded-gc']);
  expect(rainbowCommand('/usr/local/bin/node')).toEqual({ node: '/usr/local/bin/node', args: ['--single-threaded-gc', built] });
  expect(dockerfile).toMatch(/^ENTRYPOINT \["rainbow"\]$/m);
});

test('the runtime stage is a supported Node LTS, non-root, with production dependencies only', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  expect(stages).toHaveLength(2);
  const [, run] = stages;
  expect(run).toMatch(/^node:(22|24)[-.\w]*/);
  expect(run).toContain('npm ci --omit=dev');
  expect(run).toMatch(/^USER 65532:65532$/m);
  expect(run).toMatch(/^ARG COLOR=/m);
  expect(run).toMatch(/^ENV COLOR=\$\{COLOR\}$/m);
});

test("the image's build step compiles: webhook/src and app/src alone, as the Dockerfile copies them", () => {
  // `npx tsc -p tsconfig.image.json` in the build stage; here without emitting.
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.image.json'), '--noEmit'], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 60_000);
