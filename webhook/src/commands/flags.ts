// Flag parsing shared by every role: node:util parseArgs plus env fallbacks, --help, and errors
// that say which flag was wrong and how to see the usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENV_BIND_ADDRESS } from '../contract.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

export function parseFlags<T extends FlagSpec>(command: string, args: string[], options: T, help: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(`rainbow ${command}: ${(err as Error).message}\nrun \`rainbow ${command} --help\` for the flags.`);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    console.log(help);
    process.exit(0);
  }
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
