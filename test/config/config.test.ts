import assert from 'node:assert/strict';
import { chmod, chown, lchown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, resolvePaths } from '../../src/lib/config/index.js';
import { AionError } from '../../src/lib/errors/index.js';
import { findTrustRule } from '../../src/lib/sign/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';

const NOBODY = 65534;
let root: { path: string; cleanup: () => Promise<void> };
let configDir: string;

before(async () => {
  root = await tempDir('aionctl-config-');
  configDir = resolvePaths({ AIONCTL_HOME: join(root.path, 'home') }).config;
  await mkdir(configDir, { recursive: true });
});
after(async () => root?.cleanup());

async function caught(p: Promise<unknown>): Promise<AionError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AionError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

/** A fresh directory tree: DIR/work is the cwd, DIR/.aionctl.yaml the (optional) project file. */
async function project(name: string, text?: string): Promise<{ dir: string; work: string; file: string }> {
  const dir = join(root.path, name);
  const work = join(dir, 'work');
  await mkdir(work, { recursive: true });
  const file = join(dir, '.aionctl.yaml');
  if (text !== undefined) await writeFile(file, text, { mode: 0o644 });
  return { dir, work, file };
}

const noUserConfig = () => join(root.path, 'no-user-config');
const cli = (args: string[], cwd: string): Promise<CliResult> =>
  runCli(args, { cwd, env: { AIONCTL_HOME: join(root.path, 'home') } });

describe('config files are trusted like git safe.directory', () => {
  it('refuses a project file owned by another user (ST020, naming it), even in a parent directory', async () => {
    const p = await project('planted', 'trust:\n  - match: "**"\n    keys: [evil.pub]\n');
    await chown(p.file, NOBODY, NOBODY);
    const err = await caught(loadConfig(p.work, noUserConfig()));
    assert.equal(err.code, 'ST020');
    assert.match(err.message, new RegExp(`${p.file}.*owned by uid ${NOBODY}`));
    // A symlink planted by another user does not borrow the trust of its (safe) target.
    const linked = await project('linked');
    const safe = join(root.path, 'safe.yaml');
    await writeFile(safe, 'stamp:\n  owner: me\n', { mode: 0o644 });
    await symlink(safe, linked.file);
    await lchown(linked.file, NOBODY, NOBODY);
    assert.match((await caught(loadConfig(linked.work, noUserConfig()))).message, /symlink owned by uid 65534/);
    const r = await cli(['config', '--json'], p.work);
    assert.equal(r.code, 6, r.stdout);
    assert.equal(parseJson<{ error: { code: string } }>(r).error.code, 'ST020');
  });

  it('refuses a group- or world-writable file, also a root-owned one and the user config', async () => {
    const p = await project('writable', 'stamp:\n  owner: me\n');
    await chmod(p.file, 0o666);
    assert.equal((await caught(loadConfig(p.work, noUserConfig()))).code, 'ST020');
    await chmod(p.file, 0o664);
    assert.match((await caught(loadConfig(p.work, noUserConfig()))).message, /writable by group/);
    await chmod(p.file, 0o644);
    assert.equal((await loadConfig(p.work, noUserConfig())).config.stamp?.owner, 'me');

    const userDir = join(root.path, 'user-writable');
    await mkdir(userDir);
    await writeFile(join(userDir, 'config.yaml'), 'stamp:\n  owner: u\n', { mode: 0o644 });
    await chmod(join(userDir, 'config.yaml'), 0o646);
    assert.equal((await caught(loadConfig(p.work, userDir))).code, 'ST020');
  });

  it('ignores a directory named .aionctl.yaml with a warning (and keeps walking up)', async () => {
    const outer = await project('dir-named', 'stamp:\n  owner: outer\n');
    const inner = join(outer.work, 'sub');
    await mkdir(join(inner, '.aionctl.yaml'), { recursive: true });
    const loaded = await loadConfig(join(inner), noUserConfig());
    assert.equal(loaded.projectFile, outer.file);
    assert.equal(loaded.config.stamp?.owner, 'outer');
    assert.deepEqual(loaded.warnings, [`ignoring ${join(inner, '.aionctl.yaml')}: not a regular file`]);
    const r = await cli(['config'], inner);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: ignoring .*\.aionctl\.yaml: not a regular file/);
  });
});

describe('trust rules: paths and precedence', () => {
  it('resolves relative keys against the file that names them, not the project', async () => {
    const userDir = join(root.path, 'user-rel');
    await mkdir(userDir);
    await writeFile(join(userDir, 'config.yaml'), 'trust:\n  - match: "r.example/team/*"\n    keys: [release.pub]\n');
    const p = await project('rel', 'trust:\n  - match: "r.example/other/*"\n    keys: [keys/other.pub]\n');
    await writeFile(join(p.dir, 'release.pub'), 'planted');
    const { config } = await loadConfig(p.work, userDir);
    assert.deepEqual(
      config.trust?.map((r) => [r.keys, r.source]),
      [
        [[join(userDir, 'release.pub')], join(userDir, 'config.yaml')],
        [[join(p.dir, 'keys', 'other.pub')], p.file],
      ],
    );
  });

  it('user rules come first and decide; project rules only cover other names; projectTrust: ignore drops them', async () => {
    const userDir = join(root.path, 'user-prec');
    await mkdir(userDir);
    const userFile = join(userDir, 'config.yaml');
    await writeFile(userFile, 'trust:\n  - match: "r.example/team/*"\n    keys: [/k/user.pub]\n');
    const p = await project('prec', 'trust:\n  - match: "**"\n    keys: [/k/evil.pub]\n');
    const { config } = await loadConfig(p.work, userDir);
    const rules = config.trust ?? [];
    assert.deepEqual(findTrustRule(rules, 'r.example/team/app')?.keys, ['/k/user.pub']);
    assert.deepEqual(findTrustRule(rules, 'r.example/elsewhere/app')?.keys, ['/k/evil.pub']);

    await writeFile(userFile, 'projectTrust: ignore\ntrust:\n  - match: "r.example/team/*"\n    keys: [/k/user.pub]\n');
    const strict = await loadConfig(p.work, userDir);
    assert.equal(findTrustRule(strict.config.trust ?? [], 'r.example/elsewhere/app'), undefined);
    assert.match(strict.warnings[0] ?? '', /ignoring the trust rules of .*projectTrust: ignore/);

    const sneaky = await project('sneaky', 'projectTrust: add\n');
    assert.equal((await caught(loadConfig(sneaky.work, userDir))).code, 'CI004');
  });
});

describe('config schema (manifests/aionctl-config.schema.json)', () => {
  it('unknown and misspelt keys are CI004 errors with file:line:col', async () => {
    const typo = await project('typo', 'trust:\n  - match: "a/*"\n    keys: [k.pub]\n    requireSBOM: true\n');
    const err = await caught(loadConfig(typo.work, noUserConfig()));
    assert.equal(err.code, 'CI004');
    assert.match(err.message, new RegExp(`^${typo.file}:4:5: .*unknown property "requireSBOM"`));
    const top = await project('top', 'stmap:\n  owner: x\n');
    assert.match((await caught(loadConfig(top.work, noUserConfig()))).message, /:1:1: .*unknown property "stmap"/);
    const daemon = await project('daemon', 'daemon:\n  workers: two\n');
    assert.match(
      (await caught(loadConfig(daemon.work, noUserConfig()))).message,
      /:2:12: daemon.workers must be integer/,
    );
  });

  it('a YAML error names the position and does not end in a dangling colon', async () => {
    const bad = await project('yaml', 'stamp:\n  owner: [unclosed\n');
    const err = await caught(loadConfig(bad.work, noUserConfig()));
    assert.equal(err.code, 'CI004');
    assert.match(err.message, new RegExp(`^${bad.file}:\\d+:\\d+: `));
    assert.doesNotMatch(err.message, /:\s*$/);
  });

  it('accepts every known section; `aionctl config` shows each setting with its source; the schema is published', async () => {
    const userDir = join(root.path, 'user-all');
    await mkdir(userDir);
    await writeFile(
      join(userDir, 'config.yaml'),
      'registry: localhost:5000/agents\nstamp:\n  owner: user\n  author: me\n',
    );
    const p = await project(
      'all',
      [
        'stamp: {owner: team, lifecycle: draft, ignore: ["vendor/**"]}',
        'registry: oci:./out',
        'packages: {summarizer: "^1.2.0", other: "localhost:5000/agents/other@~2"}',
        'daemon: {idleTimeoutMs: 60000, maxQueue: 10, cacheBytes: 1048576, workers: 2}',
        'trust:',
        '  - {match: "oci:/**", keys: [k.pub], requireSbom: true, allowUnboundBundles: false}',
        '',
      ].join('\n'),
    );
    const loaded = await loadConfig(p.work, userDir);
    assert.equal(loaded.config.stamp?.author, 'me');
    assert.equal(loaded.config.stamp?.owner, 'team');
    assert.equal(loaded.config.daemon?.workers, 2);
    const r = await cli(['config', '--json'], p.work);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // The CLI reads the user config from AIONCTL_HOME: only the project settings show there.
    const settings = parseJson<{ settings: Array<{ key: string; value: unknown; source: string }> }>(r).settings;
    const byKey = Object.fromEntries(settings.map((s) => [s.key, s]));
    assert.equal(byKey['stamp.owner']?.value, 'team');
    assert.equal(byKey['stamp.owner']?.source, p.file);
    assert.equal(byKey['daemon.maxQueue']?.value, 10);
    assert.equal(byKey['trust[0]']?.source, p.file);
    const text = await cli(['config'], p.work);
    assert.match(text.stdout, new RegExp(`stamp\\.owner = "team"  \\(${p.file}\\)`));
    const schema = await cli(['schema', 'aionctl-config', '--json'], p.work);
    assert.equal(schema.code, 0, schema.stderr);
    assert.match(schema.stdout, /allowUnboundBundles/);
  });
});
