// scripts/deploy drives docker and helm, neither of which can act here (no container engine, no
// real cluster), so they are replaced on PATH by recorders; git is the real one. What is checked
// is the script's own work: the color, the image tag, the helm command and values, the message.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../../scripts/cluster/paths.js';

function recorder(dir: string, name: string, extra = ''): void {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/usr/bin/env bash\necho "${name} $*" >> "${dir}/calls"\n${extra}\nexit 0\n`);
  chmodSync(file, 0o755);
}

test('builds <image>:<first 6 of HEAD> with COLOR baked in and installs chart/rainbow-app with that color', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-deploy-'));
  recorder(dir, 'docker');
  recorder(dir, 'kubectl');
  // helm: record the values file too, since the script deletes it on exit.
  recorder(dir, 'helm', `for a in "$@"; do [ -f "$a" ] && cp "$a" "${dir}/values.yaml"; done`);
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
  const color = head.slice(0, 6);
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'deploy')], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, DOCKER_IMAGE: 'ghcr.io/acme/rainbow', RELEASE: 'web', NAMESPACE: 'shop' },
  });
  expect(r.status).toBe(0);
  const calls = readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');
  expect(calls[0]).toBe(`docker build --build-arg COLOR=${color} -t ghcr.io/acme/rainbow:${color} .`);
  expect(calls).toHaveLength(2); // no push without PUSH=1
  expect(calls[1]).toMatch(new RegExp(`^helm upgrade --install web chart/rainbow-app -n shop --create-namespace -f \\S+$`));
  const values = readFileSync(path.join(dir, 'values.yaml'), 'utf8');
  expect(values).toContain(`color: "${color}"`);
  expect(values).toContain('repository: "ghcr.io/acme/rainbow"');
  expect(values).toMatch(/nodePort: 31080[\s\S]*nodePort: 31081/);
  expect(r.stdout).toContain(`Deployed color ${color} as Deployment web-${color}`);
  expect(r.stdout).toContain('kubectl rainbow status web -n shop');
});

test('says what is missing when a tool is not installed', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rainbow-deploy-'));
  // Only git and bash on PATH: docker is missing.
  for (const t of ['git', 'bash', 'cut', 'mktemp', 'rm', 'cat', 'dirname']) {
    const real = spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(dir, t), `#!/bin/sh\nexec ${real} "$@"\n`);
    chmodSync(path.join(dir, t), 0o755);
  }
  const r = spawnSync(path.join(dir, 'bash'), [path.join(repoRoot, 'scripts', 'deploy')], { cwd: repoRoot, encoding: 'utf8', env: { PATH: dir } });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('scripts/deploy needs docker on PATH');
});
