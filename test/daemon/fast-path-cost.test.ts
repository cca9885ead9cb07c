import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sha256Hex } from '../../src/lib/daemon/sha256.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('the run fast path stays cheap to load', () => {
  it('its plain-JS sha256 gives node:crypto digests (socket names and build ids do not change)', () => {
    for (const text of ['', 'abc', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'é日本/tmp/store'.repeat(30)])
      assert.equal(sha256Hex(text), createHash('sha256').update(text).digest('hex'), `length ${text.length}`);
  });

  it('loading it pulls in neither node:http nor node:crypto', () => {
    const file = join(REPO_ROOT, 'dist', 'src', 'lib', 'daemon', 'fast-run.js');
    const script = `await import(${JSON.stringify(file)});
      console.log(JSON.stringify(process.moduleLoadList));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout) as string[];
    assert.ok(loaded.includes('NativeModule net'), 'the sanity check sees built-ins');
    const heavy = loaded.filter((m) => /^NativeModule (http|_http_\w+|https|crypto|internal\/crypto\/\w+)$/.test(m));
    assert.deepEqual(heavy, []);
  });
});
