import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { copyArtifact, type Descriptor, descriptorFor, LayoutTarget, MEDIA_TYPES } from '../../src/lib/oci/index.js';
import { AionError } from '../../src/lib/errors/index.js';
import { tempDir } from '../helpers/cli.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
async function layouts(): Promise<[LayoutTarget, LayoutTarget]> {
  const dir = await tempDir('aionctl-copy-');
  cleanups.push(dir.cleanup);
  return [new LayoutTarget(join(dir.path, 'src')), new LayoutTarget(join(dir.path, 'dst'))];
}

async function pushImage(target: LayoutTarget, content: string, extra: Record<string, unknown> = {}, tag?: string) {
  const layer = Buffer.from(content);
  const config = Buffer.from('{}');
  await target.pushBlob(descriptorFor('application/octet-stream', layer), layer);
  await target.pushBlob(descriptorFor(MEDIA_TYPES.empty, config), config);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      config: descriptorFor(MEDIA_TYPES.empty, config),
      layers: [descriptorFor('application/octet-stream', layer)],
      ...extra,
    }),
  );
  const descriptor = descriptorFor(MEDIA_TYPES.imageManifest, bytes);
  await target.pushManifest(descriptor, bytes, tag);
  return descriptor;
}

describe('copyArtifact', () => {
  it('copies an index with its child manifests and their blobs, children before the parent', async () => {
    const [src, dst] = await layouts();
    const a = await pushImage(src, 'amd64 content');
    const b = await pushImage(src, 'arm64 content');
    const indexBytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests: [a, b] }),
    );
    const index = descriptorFor(MEDIA_TYPES.imageIndex, indexBytes);
    await src.pushManifest(index, indexBytes, 'multi');
    const order: string[] = [];
    const result = await copyArtifact(src, 'multi', dst, 'multi', {
      concurrency: 2,
      onProgress: (e) => {
        if (e.kind === 'manifest') order.push(e.descriptor.digest);
      },
    });
    assert.equal(result.descriptor.digest, index.digest);
    assert.equal(order.at(-1), index.digest, 'the index is stored last');
    assert.equal(result.blobsCopied, 3, 'two layers + one shared config');
    for (const d of [a, b, index]) assert.ok(await dst.exists(d));
    assert.equal((await dst.fetchManifest('multi')).descriptor.digest, index.digest);
  });

  it('with referrers: copies subject referrers (recursively) and cosign sha256-<hex>.sig tags', async () => {
    const [src, dst] = await layouts();
    const subject = await pushImage(src, 'the package', {}, 'v1');
    const sbom = await pushImage(src, 'sbom', { artifactType: 'application/spdx+json', subject });
    const sbomSig = await pushImage(src, 'sig of sbom', { artifactType: MEDIA_TYPES.sigstoreBundle, subject: sbom });
    const legacyTag = subject.digest.replace(':', '-') + '.sig';
    const legacy = await pushImage(src, 'cosign simple signing', {}, legacyTag);

    const without = await copyArtifact(src, 'v1', dst, 'v1');
    assert.deepEqual(without.referrers, []);
    assert.deepEqual(await dst.referrers(subject), []);

    const result = await copyArtifact(src, 'v1', dst, 'v1', { referrers: true });
    const digests = (ds: Descriptor[]) => ds.map((d) => d.digest).sort();
    assert.deepEqual(digests(result.referrers), digests([sbom, sbomSig, legacy]));
    assert.deepEqual(digests(await dst.referrers(subject)), [sbom.digest]);
    assert.deepEqual(digests(await dst.referrers(sbom)), [sbomSig.digest]);
    assert.equal((await dst.resolve(legacyTag)).digest, legacy.digest);
    assert.deepEqual((await dst.tags()).sort(), [legacyTag, 'v1'].sort());
  });

  it('a corrupt source blob fails the copy and leaves no manifest in the destination', async () => {
    const [src, dst] = await layouts();
    const d = await pushImage(src, 'will be corrupted', {}, 'v1');
    const { writeFile } = await import('node:fs/promises');
    const layer = descriptorFor('application/octet-stream', Buffer.from('will be corrupted'));
    await writeFile(src.blobPath(layer.digest), 'will be CORRUPTED');
    await assert.rejects(copyArtifact(src, 'v1', dst, 'v1'), (err: Error & { code?: string }) => err.code === 'RG009');
    assert.equal(await dst.exists(d), false);
    assert.equal(await dst.exists(layer), false);
    assert.deepEqual(await dst.tags(), []);
  });

  it('the referrer lists asked for early: their failure surfaces after the graph, never as an unhandled rejection', async () => {
    const [src, dst] = await layouts();
    await pushImage(src, 'early lists', {}, 'v1');
    const broken = Object.assign(Object.create(src) as LayoutTarget, {
      tags: () => Promise.reject(new AionError('RG014', 'tags broke')),
      referrers: () => Promise.reject(new AionError('RG014', 'referrers broke')),
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // the graph copies first; then the early tag list's error is the copy's error (RG014 is not a 'forbidden')
      await assert.rejects(copyArtifact(broken, 'v1', dst, 'v1', { referrers: true }), /tags broke/);
      assert.deepEqual(await dst.tags(), ['v1']);
      // a graph that fails (corrupt blob) fails with its own error; the early lists' rejections go nowhere
      const [src2, dst2] = await layouts();
      await pushImage(src2, 'corrupt later', {}, 'v1');
      const layer = descriptorFor('application/octet-stream', Buffer.from('corrupt later'));
      const { writeFile } = await import('node:fs/promises');
      await writeFile(src2.blobPath(layer.digest), 'CORRUPT later');
      const broken2 = Object.assign(Object.create(src2) as LayoutTarget, {
        tags: () => Promise.reject(new AionError('RG014', 'tags broke')),
        referrers: () => Promise.reject(new AionError('RG014', 'referrers broke')),
      });
      await assert.rejects(copyArtifact(broken2, 'v1', dst2, 'v1', { referrers: true }), (e: AionError) => {
        return e.code === 'RG009';
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
