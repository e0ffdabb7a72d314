// The README's Layout block names every folder of the TypeScript package and the files it points
// a newcomer to, so the map cannot drift from the tree unnoticed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = path.join(root, 'webhook', 'src');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const layout = /^## Layout\n\n```\n([\s\S]*?)\n```/m.exec(readme)?.[1] ?? '';

const folders = (dir: string, prefix = ''): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [`${prefix}${e.name}/`, ...folders(path.join(dir, e.name), `${prefix}${e.name}/`)]);

test('the README has a Layout block', () => {
  expect(layout.split('\n').length).toBeGreaterThan(10);
});

test.each(folders(src))('names webhook/src/%s', (folder) => {
  const parts = folder.split('/').filter(Boolean);
  // A top-level folder starts its own line; a nested one is named inside its parent's lines.
  const pattern = parts.length === 1 ? new RegExp(`^  ${parts[0]}/ `, 'm') : new RegExp(`[ (]${parts.at(-1)}/[ )]`);
  expect(layout).toMatch(pattern);
});

test('every file it names under webhook/src exists', () => {
  const named = [...layout.matchAll(/\b([a-z][a-z0-9-]*\.ts)\b/g)].map((m) => m[1]!);
  const all = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else all.add(e.name);
    }
  };
  walk(src);
  walk(path.join(root, 'app', 'src'));
  walk(path.join(root, 'test'));
  expect(named.filter((f) => !all.has(f))).toEqual([]);
  expect(existsSync(src)).toBe(true);
});
