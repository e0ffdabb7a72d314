// Flag parsing shared by every role: node:util parseArgs plus env fallbacks, --help, and errors
// that say which flag was wrong and how to see the usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENV_BIND_ADDRESS } from '../domain/contract.js';
import { parseDuration } from '../domain/durations.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Bad flags or arguments: the message names the command; the CLI exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** --help was asked for: the CLI prints `text` on stdout and exits 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
  constructor(readonly text: string) {
    super('help requested');
  }
}

/** How a CLI ends on an error of a command: help on stdout (0), usage (2), anything else (1). */
export function exitFor(prog: string, err: unknown, out: { stdout: (s: string) => void; stderr: (s: string) => void }): number {
  if (err instanceof HelpRequested) {
    out.stdout(err.text);
    return 0;
  }
  if (err instanceof UsageError) {
    out.stderr(err.message);
    return 2;
  }
  out.stderr(`${prog}: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}

export function parseFlags<T extends FlagSpec>(command: string, args: string[], options: T, help: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(`rainbow ${command}: ${(err as Error).message}\nrun \`rainbow ${command} --help\` for the flags.`);
  }
  if ((parsed.values as Record<string, unknown>).help) throw new HelpRequested(help);
  return parsed.values as { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['multiple'] extends true ? string[] : string };
}

/** The address every listener binds: --bind, else RAINBOW_BIND_ADDRESS, else all interfaces. */
export function bindAddress(flag: string | undefined): string | undefined {
  return flag ?? (process.env[ENV_BIND_ADDRESS] || undefined);
}

export function portNumber(command: string, flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`rainbow ${command}: --${flag} must be a port number 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

export function portList(command: string, flag: string, value: string | undefined): number[] {
  if (!value) throw new UsageError(`rainbow ${command}: --${flag} is required (the app's ports, e.g. --${flag} 8080,8081)`);
  return value.split(',').map((p) => portNumber(command, flag, p.trim()));
}

/** Seconds in a duration flag (`2s`, `5m`, `1h30m`); `prog` is the command as typed, e.g. "rainbow webhook". */
export function durationFlag(prog: string, flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`${prog}: --${flag}: ${(err as Error).message}`);
  }
}

/** A flag that counts something (`--concurrency 16`); `prog` is the command as typed, e.g. "rainbow webhook". */
export function positiveInteger(prog: string, flag: string, value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${prog}: --${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
