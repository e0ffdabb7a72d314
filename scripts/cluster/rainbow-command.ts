// How the local cluster's pods, the e2e tests and the benchmarks run `rainbow`: as the image does.
// The image runs the compiled CLI through its shebang (Dockerfile: ENTRYPOINT ["rainbow"]), and
// the shebang carries the Node.js flags of every role (webhook/src/cli.ts says why), so they are
// read from there rather than written down twice.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

export const cliPath = path.join(repoRoot, 'dist', 'webhook', 'src', 'cli.js');

/** The flags after `node` on the CLI's `#!/usr/bin/env -S node …` line. */
export function cliNodeFlags(source = readFileSync(cliPath, 'utf8')): string[] {
  const shebang = /^#!\/usr\/bin\/env (?:-S )?node((?: [^\s]+)*)\s*$/m.exec(source.split('\n', 1)[0] ?? '');
  if (!shebang) throw new Error(`${cliPath} does not start with a "#!/usr/bin/env -S node …" line; run npm run build`);
  return shebang[1]!.trim().split(' ').filter(Boolean);
}

export interface RainbowCommand {
  /** The runtime to start. */
  node: string;
  /** Its arguments before the role's: the CLI's node flags, then the CLI. */
  args: string[];
}

/** `node <flags> dist/webhook/src/cli.js`, with `node` the given runtime (default: this one). */
export function rainbowCommand(node = process.execPath): RainbowCommand {
  return { node, args: [...cliNodeFlags(), cliPath] };
}
