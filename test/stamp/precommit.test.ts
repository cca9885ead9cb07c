import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

/**
 * Rule 10: the real `pre-commit` (Debian package) installs this project as a `language: node` hook repository
 * (npm install + `prepare` build, then `npm pack` and a global install into pre-commit's own env) and runs the
 * hooks from .pre-commit-hooks.yaml in a temporary git repository. Needs the npm registry for the dependencies.
 */
describe('rule 10: the pre-commit hooks, run by the real pre-commit', { timeout: 600_000 }, () => {
  let root: { path: string; cleanup: () => Promise<void> };
  let project: string;
  let env: NodeJS.ProcessEnv;
  const git = (args: string[], cwd: string) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
  const preCommit = (args: string[]) => {
    const r = spawnSync('pre-commit', args, { cwd: project, env, encoding: 'utf8', timeout: 540_000 });
    if (r.error) throw new Error(`pre-commit could not run (is the Debian package installed?): ${r.error.message}`);
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
  };

  before(async () => {
    root = await tempDir('aionctl-precommit-');
    // A local clone of this project as it is on disk now (tracked + untracked, .gitignore honoured).
    const hookRepo = join(root.path, 'aionctl');
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f !== '');
    for (const file of files) {
      await mkdir(dirname(join(hookRepo, file)), { recursive: true });
      await copyFile(join(REPO_ROOT, file), join(hookRepo, file)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err; // deleted in the work tree but still in the index
      });
    }
    git(['init', '-q'], hookRepo);
    git(['add', '-A'], hookRepo);
    git(['commit', '-qm', 'snapshot'], hookRepo);
    const rev = git(['rev-parse', 'HEAD'], hookRepo).trim();

    project = join(root.path, 'project');
    await mkdir(project);
    git(['init', '-q'], project);
    await writeFile(
      join(project, '.pre-commit-config.yaml'),
      [
        'repos:',
        `  - repo: ${hookRepo}`,
        `    rev: ${rev}`,
        '    hooks:',
        '      - id: aionctl-stamp-check',
        '      - id: aionctl-stamp',
        '      - id: aionctl-stamp-repo',
        // Issue 9.1: pre-commit appends the file names after `args:`, so `-x GLOB` must take one value only.
        '      - id: aionctl-stamp',
        '        alias: stamp-skip-gen',
        "        args: ['-x', 'gen/**']",
        '',
      ].join('\n'),
    );
    await writeFile(join(project, 'tool.py'), 'print("hi")\n');
    await writeFile(join(project, 'data.json'), '{"a": 1}\n');
    await mkdir(join(project, 'gen'));
    await writeFile(join(project, 'gen', 'out.py'), 'x = 1\n');
    git(['add', '-A'], project);
    env = {
      ...process.env,
      PRE_COMMIT_HOME: join(root.path, 'pre-commit-home'),
      AIONCTL_HOME: join(root.path, 'aionctl-home'),
      SOURCE_DATE_EPOCH: '1700000000',
      NO_COLOR: '1',
    };
    const install = preCommit(['install-hooks']);
    assert.equal(install.code, 0, `pre-commit install-hooks failed:\n${install.out}`);
  });
  after(() => root?.cleanup());

  it('the hook manifest is valid for pre-commit', () => {
    const r = spawnSync('pre-commit', ['validate-manifest', join(REPO_ROOT, '.pre-commit-hooks.yaml')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('aionctl-stamp-check fails on an unstamped file and changes nothing', async () => {
    const r = preCommit(['run', 'aionctl-stamp-check', '--all-files']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /tool\.py: would stamp \(no metadata block\)/);
    assert.equal(await readFile(join(project, 'tool.py'), 'utf8'), 'print("hi")\n');
  });

  it('args: [-x, GLOB] then the file names: only the named files outside GLOB are stamped, and named', async () => {
    const config = await readFile(join(project, '.pre-commit-config.yaml'), 'utf8');
    const r = preCommit(['run', 'stamp-skip-gen', '--files', 'tool.py', 'gen/out.py']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /files were modified by this hook/);
    assert.match(r.out, /^tool\.py: stamped \(no metadata block\)$/m, 'the hook runs with --quiet and still names it');
    assert.match(await readFile(join(project, 'tool.py'), 'utf8'), /^# === OmniNode:Metadata ===/);
    assert.equal(await readFile(join(project, 'gen', 'out.py'), 'utf8'), 'x = 1\n', 'excluded by -x');
    assert.equal(await readFile(join(project, '.pre-commit-config.yaml'), 'utf8'), config, 'not named: left alone');
  });

  it('aionctl-stamp stamps (pre-commit fails because files changed), then every hook passes', async () => {
    const first = preCommit(['run', 'aionctl-stamp', '--all-files']);
    assert.equal(first.code, 1, first.out);
    assert.match(first.out, /files were modified by this hook/);
    // The config file is YAML, so it gets a block too (comments are fine for pre-commit).
    assert.match(await readFile(join(project, '.pre-commit-config.yaml'), 'utf8'), /^# === OmniNode:Metadata ===/);
    const text = await readFile(join(project, 'tool.py'), 'utf8');
    assert.match(text, /^# === OmniNode:Metadata ===\n[\s\S]*# created_at: "2023-11-14T22:13:20\.000Z"\n/);
    assert.equal(await readFile(join(project, 'data.json'), 'utf8'), '{"a": 1}\n');
    git(['add', '-A'], project);
    const all = preCommit(['run', '--all-files']);
    assert.equal(all.code, 0, all.out);
  });

  it('aionctl-stamp-repo (pass_filenames: false) catches a copied file’s duplicate uuid', async () => {
    await copyFile(join(project, 'tool.py'), join(project, 'tool_copy.py'));
    git(['add', '-A'], project);
    const r = preCommit(['run', 'aionctl-stamp-repo', '--all-files']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /MD007: uuid [0-9a-f-]{36} is shared by tool\.py, tool_copy\.py/);
  });
});
