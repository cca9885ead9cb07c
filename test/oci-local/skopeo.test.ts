import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { copyArtifact, extractPackage, LayoutTarget, MEDIA_TYPES, pack, sha256 } from '../../src/lib/oci/index.js';
import { tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from './fixtures.js';

const run = promisify(execFile);

async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    // never skip: a missing skopeo must fail loudly
    throw new Error(`skopeo ${args.join(' ')} failed: ${(err as Error).message}`);
  }
}

describe('skopeo reads what aionctl writes (real skopeo, real docker-registry)', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-skopeo-'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it(
    'inspect --raw returns our exact manifest bytes, from a plain layout and from the store layout',
    {
      timeout: 60_000,
    },
    async () => {
      const dir = await writePackage(join(root, 'pkg'));
      const layout = new LayoutTarget(join(root, 'layout'));
      const { artifact } = await pack(dir, () => layout, { tag: 'v1' });
      const raw = await skopeo('inspect', '--raw', `oci:${layout.root}:v1`);
      assert.equal(raw, Buffer.from(artifact.manifestBytes).toString());
      // the store addresses NAME:VERSION as ref.name, which skopeo reads as oci:STORE:NAME:VERSION
      const store = new LayoutTarget(join(root, 'store'), { refPrefix: 'summarize_text:' });
      await pack(dir, () => store);
      const fromStore = await skopeo('inspect', '--raw', `oci:${store.root}:summarize_text:1.3.0`);
      assert.equal(sha256(fromStore), artifact.descriptor.digest);
    },
  );

  it(
    'skopeo copies our layout to the registry and back with identical digests; we read its layout',
    {
      timeout: 120_000,
    },
    async () => {
      const dir = await writePackage(join(root, 'pkg2'), { name: 'roundtrip', version: '0.1.0' });
      const layout = new LayoutTarget(join(root, 'ours'));
      const { descriptor } = await pack(dir, () => layout, { tag: '0.1.0' });
      const remote = `docker://${registry.host}/agents/roundtrip:0.1.0`;
      await skopeo('copy', '--dest-tls-verify=false', `oci:${layout.root}:0.1.0`, remote);
      // the registry holds exactly our manifest
      const res = await fetch(`http://${registry.host}/v2/agents/roundtrip/manifests/0.1.0`, {
        headers: { accept: MEDIA_TYPES.imageManifest },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), descriptor.digest);
      assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), descriptor.digest);

      const theirs = join(root, 'theirs');
      await skopeo('copy', '--src-tls-verify=false', remote, `oci:${theirs}:back`);
      const back = new LayoutTarget(theirs);
      assert.equal((await back.resolve('back')).digest, descriptor.digest);
      // our engine copies skopeo's layout into a fresh one and extracts the original files from it
      const again = new LayoutTarget(join(root, 'again'));
      const copied = await copyArtifact(back, 'back', again, 'final');
      assert.equal(copied.descriptor.digest, descriptor.digest);
      const out = join(root, 'extracted');
      await extractPackage(again, 'final', out);
      assert.deepEqual(await readFile(join(out, 'aip.yaml')), await readFile(join(dir, 'aip.yaml')));
      assert.deepEqual(await readFile(join(out, 'module.wasm')), await readFile(join(dir, 'module.wasm')));
    },
  );
});
