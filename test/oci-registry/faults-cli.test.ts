import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

/** Everything in the store must be intact: every blob file hashes to its name, index.json names no missing tag. */
async function storeState(home: string): Promise<{ refs: string[]; blobs: number }> {
  const store = join(home, 'data', 'store');
  let index: { manifests: { annotations?: Record<string, string> }[] } = { manifests: [] };
  try {
    index = JSON.parse(await readFile(join(store, 'index.json'), 'utf8'));
  } catch {
    return { refs: [], blobs: 0 };
  }
  const dir = join(store, 'blobs', 'sha256');
  const names = await readdir(dir).catch(() => [] as string[]);
  const { createHash } = await import('node:crypto');
  for (const name of names) {
    const hex = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex');
    assert.equal(hex, name, `store blob ${name} is corrupt`);
  }
  return {
    refs: index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '').filter(Boolean),
    blobs: names.length,
  };
}

describe('pull through a faulty network: clear errors, no corrupt store entry', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let digest: string;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-faults-'));
    const pkg = await writePackage(join(root, 'pkg'), {
      files: { 'data/big.bin': Buffer.alloc(512 * 1024, 7) },
    });
    const r = await runCli(['push', pkg, `${registry.host}/f/pkg:1.0.0`, '--json'], {
      env: { AIONCTL_HOME: join(root, 'src-home'), DOCKER_CONFIG: join(root, 'docker') },
    });
    assert.equal(r.code, 0, r.stderr);
    digest = parseJson<{ digest: string }>(r).digest;
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  const env = (home: string) => ({
    AIONCTL_HOME: join(root, home),
    DOCKER_CONFIG: join(root, 'docker'),
    AIONCTL_REGISTRY_RETRY_BASE_MS: '5',
  });

  it('a corrupted blob: exit 6 with RG009, nothing tagged, no corrupt blob kept', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: 'corrupt' }]);
    try {
      const r = await runCli(
        ['pull', '--insecure-skip-verify', `${proxy.host}/f/pkg:1.0.0`, '-o', join(root, 'out1')],
        { env: env('h1') },
      );
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /RG009: content of sha256:[a-f0-9]{64} failed verification/);
      const state = await storeState(join(root, 'h1'));
      assert.deepEqual(state.refs, []);
      await assert.rejects(readdir(join(root, 'out1', 'data')), 'no files extracted');
    } finally {
      await proxy.stop();
    }
  });

  it('a connection that keeps dying: NE006 after resumes, store clean', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/blobs\/sha256:/, fault: 'reset-half' },
    ]);
    try {
      const r = await runCli(['pull', '--insecure-skip-verify', `${proxy.host}/f/pkg:1.0.0`], { env: env('h2') });
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /NE006: download of sha256:[a-f0-9]{64} .* was interrupted/);
      assert.deepEqual((await storeState(join(root, 'h2'))).refs, []);
    } finally {
      await proxy.stop();
    }
  });

  it('one reset and two 500s: the pull still succeeds with the right digest', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/blobs\/sha256:/, fault: 'reset-half', times: 1 },
      { method: 'GET', path: /\/manifests\//, fault: 'error-500', times: 2 },
    ]);
    try {
      const r = await runCli(['pull', '--insecure-skip-verify', `${proxy.host}/f/pkg:1.0.0`, '--json'], {
        env: env('h3'),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseJson<{ digest: string }>(r).digest, digest);
      const state = await storeState(join(root, 'h3'));
      assert.deepEqual(state.refs, [`${proxy.host}/f/pkg:1.0.0`]);
      assert.ok(
        proxy.requests.some((q) => q.headers.range),
        'resumed with Range',
      );
    } finally {
      await proxy.stop();
    }
  });

  it('a lying Docker-Content-Digest header: RG009, store clean', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/manifests\//, fault: 'wrong-digest-header' },
    ]);
    try {
      const r = await runCli(['pull', '--insecure-skip-verify', `${proxy.host}/f/pkg:1.0.0`], { env: env('h4') });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /RG009.*Docker-Content-Digest/);
      assert.deepEqual((await storeState(join(root, 'h4'))).refs, []);
    } finally {
      await proxy.stop();
    }
  });
});
