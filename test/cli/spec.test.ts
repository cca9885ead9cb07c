import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flags, Parser } from '@oclif/core';
import Pull from '../../src/commands/pull.js';
import Push from '../../src/commands/push.js';
import Stamp from '../../src/commands/stamp.js';
import Validate from '../../src/commands/validate.js';
import { type CommandSpec, parseArgvFast } from '../../src/lib/cli/spec.js';
import { pullSpec } from '../../src/lib/cli/handlers/pull.js';
import { pushSpec } from '../../src/lib/cli/handlers/push.js';
import { stampSpec } from '../../src/lib/cli/handlers/stamp.js';
import { validateSpec } from '../../src/lib/cli/handlers/validate.js';

// The start-up fast path parses argv itself (src/lib/cli/spec.ts) and must read every argv it accepts exactly as
// oclif's parser does; what it declines goes to oclif. Each case is parsed both ways here.
type CommandClass = typeof Stamp | typeof Validate | typeof Push | typeof Pull;

async function oclifParse(command: CommandClass, argv: string[]) {
  const flags = { ...command.baseFlags, json: Flags.boolean({}), ...command.flags } as Parameters<
    typeof Parser.parse
  >[1]['flags'];
  try {
    const r = await Parser.parse(argv, {
      flags,
      args: command.args,
      strict: command.strict,
      context: {} as Parameters<typeof Parser.parse>[1]['context'],
    });
    return { flags: r.flags, args: r.args, argv: r.argv };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function assertAgrees(command: CommandClass, spec: CommandSpec, argv: string[], expectFast: boolean) {
  const fast = parseArgvFast(spec, argv);
  const oclif = await oclifParse(command, argv);
  if (fast === undefined) {
    assert.equal(expectFast, false, `declined but expected to parse: ${JSON.stringify(argv)}`);
    return;
  }
  assert.equal(expectFast, true, `parsed but expected oclif to answer: ${JSON.stringify(argv)}`);
  assert.ok(
    !('error' in oclif),
    `oclif rejects what the fast path accepted: ${JSON.stringify(argv)}: ${JSON.stringify(oclif)}`,
  );
  assert.deepEqual(fast, oclif, JSON.stringify(argv));
}

describe('parseArgvFast (the start-up fast path) agrees with oclif', () => {
  it('stamp: booleans, --no-, repeatable -x, options, integers, positionals', async () => {
    const parsed: string[][] = [
      [],
      ['--check'],
      ['-c', 'a.py', 'b.py'],
      ['-x', 'gen/**', 'a.py', 'b.py'],
      ['--exclude=gen/**', '-x', 'dist/**', '--check', 'src'],
      ['--no-cache', '--quiet', '--json'],
      ['--cache', '-q', '-v', '-d'],
      ['--owner', 'Team Lab', '--author=A B', '--lifecycle', 'draft'],
      ['-j', '8', '--threads=2', '.'],
      ['--debug', '--strict', '--regenerate-uuid', 'x.py'],
    ];
    const declined: string[][] = [
      ['--help'],
      ['-h'],
      ['--no-such-flag'],
      ['-cq'],
      ['--lifecycle', 'bogus'],
      ['--owner'],
      ['--owner', '--check'],
      ['--owner=a', '--owner=b'],
      ['--owner='],
      ['-j', '0'],
      ['-j', 'two'],
      ['--threads', '65'],
      ['--check=yes'],
      ['--no-check'],
      ['--json=1'],
      ['--', '-a.py'],
      ['-'],
    ];
    for (const argv of parsed) await assertAgrees(Stamp, stampSpec, argv, true);
    for (const argv of declined) await assertAgrees(Stamp, stampSpec, argv, false);
  });

  it('validate: defaults, options, positionals', async () => {
    for (const argv of [[], ['.'], ['--format', 'sarif', 'a', 'b'], ['-q', '--json', '--format=text']]) {
      await assertAgrees(Validate, validateSpec, argv, true);
    }
    for (const argv of [['--format', 'xml'], ['--format'], ['-x']])
      await assertAgrees(Validate, validateSpec, argv, false);
  });

  it('push and pull: required arguments, integer defaults, --no-referrers, registry flags', async () => {
    for (const argv of [
      ['./pkg', 'localhost:5000/a:1'],
      ['./pkg', 'oci:./out:1', '--no-referrers', '--concurrency', '8', '--chunk-size=4096', '--plain-http', '-q'],
      ['--insecure', './pkg', 'oci:x'],
    ]) {
      await assertAgrees(Push, pushSpec, argv, true);
    }
    for (const argv of [
      [],
      ['./pkg'],
      ['a', 'b', 'c'],
      ['a', 'b', '--concurrency', '0'],
      ['a', 'b', '--chunk-size', '10'],
    ]) {
      await assertAgrees(Push, pushSpec, argv, false);
    }
    for (const argv of [
      ['localhost:5000/a:1'],
      ['oci:./x:1', '-o', 'out', '--force', '--name', 'n', '--insecure-skip-verify', '--json'],
      ['a:1', '--referrers', '--concurrency=32'],
    ]) {
      await assertAgrees(Pull, pullSpec, argv, true);
    }
    for (const argv of [[], ['a', 'b'], ['a', '--concurrency', '33'], ['a', '-o']])
      await assertAgrees(Pull, pullSpec, argv, false);
  });
});
