import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { descriptorFor, LayoutTarget, MEDIA_TYPES, openStore } from '../../src/lib/oci/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from './fixtures.js';

describe('aionctl copy through a real registry', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-regcopy-'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it(
    'store -> registry -> oci: layout keeps the digest, and a signature referrer travels along',
    {
      timeout: 120_000,
    },
    async () => {
      const env = { AIONCTL_HOME: join(root, 'home') };
      const dir = await writePackage(join(root, 'pkg'));
      const packed = parseJson<{ digest: string }>(await runCli(['pack', dir, '--json'], { env }));

      // attach a signature-like referrer in the store (what `aionctl sign` will do)
      const store = openStore('summarize_text', env);
      const subject = await store.resolve('1.3.0');
      const bundle = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
      const empty = Buffer.from('{}');
      await store.pushBlob(descriptorFor(MEDIA_TYPES.sigstoreBundle, bundle), bundle);
      await store.pushBlob(descriptorFor(MEDIA_TYPES.empty, empty), empty);
      const sigBytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          artifactType: MEDIA_TYPES.sigstoreBundle,
          config: descriptorFor(MEDIA_TYPES.empty, empty),
          layers: [descriptorFor(MEDIA_TYPES.sigstoreBundle, bundle)],
          subject,
        }),
      );
      const sig = descriptorFor(MEDIA_TYPES.imageManifest, sigBytes);
      await store.pushManifest(sig, sigBytes);

      const remote = `${registry.host}/agents/summarize_text:1.3.0`;
      const up = await runCli(['copy', 'summarize_text:1.3.0', remote, '--json'], { env, timeoutMs: 90_000 });
      assert.equal(up.code, 0, up.stderr);
      const upJson = parseJson<{ digest: string; referrers: string[] }>(up);
      assert.equal(upJson.digest, packed.digest);
      assert.deepEqual(upJson.referrers, [sig.digest]);

      const res = await fetch(`http://${registry.host}/v2/agents/summarize_text/manifests/1.3.0`, {
        headers: { accept: MEDIA_TYPES.imageManifest },
      });
      assert.equal(res.headers.get('docker-content-digest'), packed.digest);
      await res.arrayBuffer();

      const down = await runCli(['copy', remote, `oci:${join(root, 'back')}`, '--json'], { env, timeoutMs: 90_000 });
      assert.equal(down.code, 0, down.stderr);
      const downJson = parseJson<{ digest: string; referrers: string[] }>(down);
      assert.equal(downJson.digest, packed.digest);
      assert.deepEqual(downJson.referrers, [sig.digest]);
      const back = new LayoutTarget(join(root, 'back'));
      assert.equal((await back.resolve('1.3.0')).digest, packed.digest);
      const referrers = await back.referrers(subject);
      assert.deepEqual(
        referrers.map((r) => [r.digest, r.artifactType]),
        [[sig.digest, MEDIA_TYPES.sigstoreBundle]],
      );

      // copying again uploads nothing
      const again = parseJson<{ blobsCopied: number; blobsSkipped: number }>(
        await runCli(['copy', 'summarize_text:1.3.0', remote, '--json', '--no-referrers'], { env }),
      );
      assert.equal(again.blobsCopied, 0);
      assert.equal(again.blobsSkipped, 6);
    },
  );
});
