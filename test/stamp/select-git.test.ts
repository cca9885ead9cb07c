import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mayBeInGitWorkTree, selectFiles } from '../../src/lib/stamp/index.js';
import { tempDir } from '../helpers/cli.js';

// stamp asks `git ls-files` only where git could answer: spawning git costs start-up time outside repositories.
describe('stamp: git is asked only inside a work tree', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('aionctl-select-git-');
  });
  after(() => dir.cleanup());

  it('no .git in or above a directory: git is not asked, unless GIT_DIR or GIT_WORK_TREE point it elsewhere', async () => {
    const plain = join(dir.path, 'plain', 'sub');
    await mkdir(plain, { recursive: true });
    assert.equal(mayBeInGitWorkTree(plain, {}), false);
    assert.equal(mayBeInGitWorkTree(plain, { GIT_DIR: '/elsewhere/.git' }), true);
    assert.equal(mayBeInGitWorkTree(plain, { GIT_WORK_TREE: plain }), true);
  });

  it('a repository, a directory below one, and a gitfile (worktrees, submodules) all ask git', async () => {
    const repo = join(dir.path, 'repo');
    await mkdir(join(repo, 'deep', 'er'), { recursive: true });
    execFileSync('git', ['init', '-q'], { cwd: repo });
    assert.equal(mayBeInGitWorkTree(repo, {}), true);
    assert.equal(mayBeInGitWorkTree(join(repo, 'deep', 'er'), {}), true);
    const linked = join(dir.path, 'linked');
    await mkdir(linked);
    await writeFile(join(linked, '.git'), 'gitdir: ../repo/.git\n');
    assert.equal(mayBeInGitWorkTree(linked, {}), true);
  });

  it('inside git the listing still honours .gitignore through git; outside, through the walk', async () => {
    const repo = join(dir.path, 'ignored');
    await mkdir(repo);
    execFileSync('git', ['init', '-q'], { cwd: repo });
    await writeFile(join(repo, '.gitignore'), 'skip.py\n');
    await writeFile(join(repo, 'keep.py'), 'print(1)\n');
    await writeFile(join(repo, 'skip.py'), 'print(2)\n');
    // only git reads .git/info/exclude: proof that the listing came from git
    await writeFile(join(repo, '.git', 'info', 'exclude'), 'private.py\n');
    await writeFile(join(repo, 'private.py'), 'print(3)\n');
    const inGit = await selectFiles({ cwd: repo, paths: [], exclude: [], ignore: [], env: {} });
    assert.deepEqual(inGit.files.map((f) => f.display).sort(), ['.gitignore', 'keep.py']);
    const outside = join(dir.path, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, '.gitignore'), 'skip.py\n');
    await writeFile(join(outside, 'keep.py'), 'print(1)\n');
    await writeFile(join(outside, 'skip.py'), 'print(2)\n');
    const walked = await selectFiles({ cwd: outside, paths: [], exclude: [], ignore: [], env: {} });
    assert.deepEqual(walked.files.map((f) => f.display).sort(), ['.gitignore', 'keep.py']);
  });
});
