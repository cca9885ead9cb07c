import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from '../../src/lib/fs/index.js';
import { tempDir } from '../helpers/cli.js';

describe('writeFileAtomic', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('replaces content, keeps the existing mode, and leaves no temp file', async () => {
    const file = join(dir.path, 'script.sh');
    await writeFile(file, 'old');
    await chmod(file, 0o750);
    await writeFileAtomic(file, 'new', { mode: 0o600 });
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.equal((await stat(file)).mode & 0o777, 0o750);
    assert.deepEqual(await readdir(dir.path), ['script.sh']);
  });

  it('forceMode applies the mode even over a looser existing file (private keys)', async () => {
    const file = join(dir.path, 'cosign.key');
    await writeFile(file, 'old');
    await chmod(file, 0o644);
    await writeFileAtomic(file, 'secret', { mode: 0o600, forceMode: true });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), 'secret');
  });

  it('a failed write is an FS003 error and leaves the old file intact', async () => {
    const file = join(dir.path, 'missing-dir', 'x.txt');
    await assert.rejects(writeFileAtomic(file, 'x'), { code: 'FS001' });
  });
});
