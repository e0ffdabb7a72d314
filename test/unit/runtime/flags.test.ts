// How both CLIs end: --help on stdout with 0, a usage error on stderr with 2 and one prefix,
// anything else with 1; and the flag parser never exits the process itself.
import { HelpRequested, UsageError, exitFor, parseFlags } from '../../../webhook/src/runtime/flags.js';

function ended(err: unknown) {
  const out: string[] = [];
  const errs: string[] = [];
  const code = exitFor('rainbow', err, { stdout: (s) => out.push(s), stderr: (s) => errs.push(s) });
  return { code, out, errs };
}

test('--help is thrown to the caller, not an exit inside the parser', () => {
  expect(() => parseFlags('reporter', ['--help'], { ports: { type: 'string' } }, 'usage: rainbow reporter')).toThrow(HelpRequested);
  expect(ended(new HelpRequested('usage: rainbow reporter'))).toEqual({ code: 0, out: ['usage: rainbow reporter'], errs: [] });
});

test('a bad flag is a usage error (2) whose message carries the command once', () => {
  let caught: unknown;
  try {
    parseFlags('reporter', ['--nope'], { ports: { type: 'string' } }, '');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UsageError);
  const { code, errs } = ended(caught);
  expect(code).toBe(2);
  expect(errs[0]).toMatch(/^rainbow reporter: Unknown option '--nope'/);
  expect(errs[0]).not.toContain('rainbow: rainbow');
});

test('any other failure exits 1 with the CLI name in front', () => {
  expect(ended(new Error('cannot reach the API server'))).toEqual({ code: 1, out: [], errs: ['rainbow: cannot reach the API server'] });
});
