import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import {
  DigestVerifier,
  descriptorFor,
  LayoutTarget,
  MEDIA_TYPES,
  parseDigest,
  REF_NAME,
  sha256,
  sha256Stream,
} from '../../src/lib/oci/index.js';
import { tempDir } from '../helpers/cli.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function freshLayout(): Promise<LayoutTarget> {
  const dir = await tempDir('aionctl-layout-');
  cleanups.push(dir.cleanup);
  return new LayoutTarget(join(dir.path, 'layout'));
}

function manifestFor(layer: Uint8Array, extra: Record<string, unknown> = {}) {
  const config = new Uint8Array(Buffer.from('{}'));
  const body = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.imageManifest,
    artifactType: 'application/vnd.example+type',
    config: descriptorFor(MEDIA_TYPES.empty, config),
    layers: [descriptorFor('application/octet-stream', layer)],
    ...extra,
  };
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(body)));
  return { config, bytes, descriptor: descriptorFor(MEDIA_TYPES.imageManifest, bytes) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function expectCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof AionError, `expected AionError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('digests', () => {
  it('computes sha256 of bytes and streams identically', async () => {
    const bytes = Buffer.from('hello world');
    const fromStream = await sha256Stream(Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]));
    assert.equal(sha256(bytes), 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    assert.deepEqual(fromStream, { digest: sha256(bytes), size: 11 });
  });

  it('refuses malformed digests and unknown algorithms with distinct messages', () => {
    assert.throws(() => parseDigest('sha512:' + 'a'.repeat(128)), /unsupported digest algorithm "sha512"/);
    assert.throws(() => parseDigest('sha256:XYZ'), /malformed digest/);
    assert.throws(() => parseDigest('sha256:' + 'A'.repeat(64)), expectCode('RG002'));
    assert.equal(parseDigest(sha256('x')), sha256('x'));
  });

  it('the verifying stream errors on a wrong digest, a short and a long body', async () => {
    const good = Buffer.from('payload');
    const d = descriptorFor('x', good);
    assert.deepEqual(await readAll(Readable.from([good]).pipe(new DigestVerifier(d))), good);
    for (const bad of [Buffer.from('paylaod'), Buffer.from('pay'), Buffer.from('payload!')]) {
      const verifier = new DigestVerifier(d);
      await assert.rejects(readAll(Readable.from([bad]).pipe(verifier)), expectCode('RG009'));
    }
  });
});

describe('LayoutTarget', () => {
  it('round-trips blobs and a tagged manifest in a spec-conformant layout', async () => {
    const layout = await freshLayout();
    const layer = new Uint8Array(Buffer.from('layer content'));
    const m = manifestFor(layer);
    await layout.pushBlob(descriptorFor('application/octet-stream', layer), Readable.from([Buffer.from(layer)]));
    await layout.pushBlob(descriptorFor(MEDIA_TYPES.empty, m.config), m.config);
    await layout.pushManifest(m.descriptor, m.bytes, 'v1');

    assert.deepEqual(JSON.parse(await readFile(join(layout.root, 'oci-layout'), 'utf8')), {
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(await readFile(join(layout.root, 'index.json'), 'utf8'));
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, MEDIA_TYPES.imageIndex);
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].digest, m.descriptor.digest);
    assert.equal(index.manifests[0].annotations[REF_NAME], 'v1');
    assert.equal(index.manifests[0].artifactType, 'application/vnd.example+type');

    const resolved = await layout.resolve('v1');
    assert.equal(resolved.digest, m.descriptor.digest);
    assert.deepEqual(Buffer.from((await layout.fetchManifest('v1')).bytes), Buffer.from(m.bytes));
    assert.deepEqual(await readAll(await layout.fetchBlob(descriptorFor('x', layer))), Buffer.from(layer));
    assert.deepEqual(await layout.tags(), ['v1']);
    assert.equal((await layout.resolve(m.descriptor.digest)).mediaType, MEDIA_TYPES.imageManifest);
    await assert.rejects(layout.resolve('v2'), expectCode('RG003'));

    // retagging replaces, never duplicates, the ref.name
    await layout.tag(m.descriptor, 'v1');
    await layout.tag(m.descriptor, 'latest');
    assert.deepEqual(await layout.tags(), ['latest', 'v1']);
    assert.equal(JSON.parse(await readFile(join(layout.root, 'index.json'), 'utf8')).manifests.length, 2);
  });

  it('a corrupt stream leaves no blob, no temp file and no index entry', async () => {
    const layout = await freshLayout();
    const layer = Buffer.from('the real content');
    const descriptor = descriptorFor('application/octet-stream', layer);
    await assert.rejects(
      layout.pushBlob(descriptor, Readable.from([Buffer.from('the fake content')])),
      expectCode('RG009'),
    );
    await assert.rejects(layout.pushBlob(descriptor, Readable.from([layer, Buffer.from('x')])), expectCode('RG009'));
    // a stream that dies half way
    const dying = new Readable({
      read() {
        this.push(layer.subarray(0, 4));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(layout.pushBlob(descriptor, dying));
    assert.equal(await layout.exists(descriptor), false);
    assert.deepEqual(await readdir(join(layout.root, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(layout.root, 'ingest')), []);

    const m = manifestFor(layer);
    const tampered = new Uint8Array(Buffer.from(Buffer.from(m.bytes).toString().replace('example', 'exomple')));
    await assert.rejects(layout.pushManifest(m.descriptor, tampered, 'v1'), expectCode('RG009'));
    assert.deepEqual(await layout.tags(), []);
    await assert.rejects(stat(join(layout.root, 'index.json')));
  });

  it('detects a blob corrupted on disk when reading it', async () => {
    const layout = await freshLayout();
    const layer = Buffer.from('original');
    const d = descriptorFor('application/octet-stream', layer);
    await layout.pushBlob(d, layer);
    await writeFile(layout.blobPath(d.digest), 'origina!');
    await assert.rejects(readAll(await layout.fetchBlob(d)), expectCode('RG009'));
  });

  it('refuses manifests over 4 MiB and a mediaType that contradicts the descriptor', async () => {
    const layout = await freshLayout();
    const big = new Uint8Array(
      Buffer.from(JSON.stringify({ mediaType: MEDIA_TYPES.imageManifest, pad: 'x'.repeat(4 * 1024 * 1024) })),
    );
    await assert.rejects(
      layout.pushManifest(descriptorFor(MEDIA_TYPES.imageManifest, big), big, 'big'),
      expectCode('RG010'),
    );
    const m = manifestFor(Buffer.from('a'));
    await assert.rejects(
      layout.pushManifest({ ...m.descriptor, mediaType: MEDIA_TYPES.imageIndex }, m.bytes),
      expectCode('RG011'),
    );
    await assert.rejects(layout.pushManifest(m.descriptor, m.bytes, 'bad+tag'), expectCode('RG105'));
  });

  it('refuses a directory that is not an OCI layout', async () => {
    const layout = await freshLayout();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(layout.root, { recursive: true });
    await writeFile(join(layout.root, 'index.json'), '{"not":"an index"}');
    await assert.rejects(layout.tags(), expectCode('RG104'));
    await writeFile(join(layout.root, 'index.json'), '{nope');
    await assert.rejects(layout.resolve('x'), expectCode('RG104'));
  });

  it('answers referrers from untagged subject manifests and from sha256-<hex> tag-schema indexes', async () => {
    const layout = await freshLayout();
    const subject = manifestFor(Buffer.from('subject layer'));
    await layout.pushBlob(subject.descriptor, subject.bytes);
    await layout.pushManifest(subject.descriptor, subject.bytes, 'v1');

    const sig = manifestFor(Buffer.from('signature'), {
      artifactType: MEDIA_TYPES.sigstoreBundle,
      subject: subject.descriptor,
    });
    await layout.pushManifest(sig.descriptor, sig.bytes);
    const index = JSON.parse(await readFile(join(layout.root, 'index.json'), 'utf8'));
    const entry = index.manifests.find((d: { digest: string }) => d.digest === sig.descriptor.digest);
    assert.ok(entry, 'the referrer is listed in index.json');
    assert.equal(entry.annotations, undefined, 'untagged');
    assert.deepEqual(await layout.tags(), ['v1']);

    // a tag-schema index (as cosign/ORAS write against registries without the referrers API)
    const sbom = manifestFor(Buffer.from('sbom'), {
      artifactType: 'application/spdx+json',
      subject: subject.descriptor,
    });
    await layout.pushBlob(sbom.descriptor, sbom.bytes);
    const fallback = new Uint8Array(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageIndex,
          manifests: [{ ...sbom.descriptor, artifactType: 'application/spdx+json' }],
        }),
      ),
    );
    await layout.pushManifest(
      descriptorFor(MEDIA_TYPES.imageIndex, fallback),
      fallback,
      subject.descriptor.digest.replace(':', '-'),
    );

    const all = await layout.referrers(subject.descriptor);
    assert.deepEqual(all.map((d) => d.digest).sort(), [sig.descriptor.digest, sbom.descriptor.digest].sort());
    const sigs = await layout.referrers(subject.descriptor, MEDIA_TYPES.sigstoreBundle);
    assert.deepEqual(
      sigs.map((d) => d.digest),
      [sig.descriptor.digest],
    );
    assert.deepEqual(await layout.referrers(sig.descriptor), []);
  });

  it('store-style prefixes keep several repositories apart in one layout', async () => {
    const plain = await freshLayout();
    const a = new LayoutTarget(plain.root, { refPrefix: 'alpha:' });
    const b = new LayoutTarget(plain.root, { refPrefix: 'beta:' });
    const m = manifestFor(Buffer.from('z'));
    await a.pushManifest(m.descriptor, m.bytes, '1.0.0');
    await b.pushManifest(m.descriptor, m.bytes, '2.0.0');
    assert.deepEqual(await a.tags(), ['1.0.0']);
    assert.deepEqual(await b.tags(), ['2.0.0']);
    assert.deepEqual((await plain.tags()).sort(), ['alpha:1.0.0', 'beta:2.0.0']);
    await assert.rejects(a.resolve('2.0.0'), expectCode('RG003'));
  });
});

describe('store and openTarget', () => {
  it('lists NAME:TAG entries of the store and opens every local reference kind', async () => {
    const { listStore, openStore, openTarget, parseReference } = await import('../../src/lib/oci/index.js');
    const dir = await tempDir('aionctl-store-');
    cleanups.push(dir.cleanup);
    const env = { AIONCTL_HOME: dir.path };
    const m = manifestFor(Buffer.from('store'));
    await openStore('team/agent', env).pushManifest(m.descriptor, m.bytes, '1.0.0');
    await openStore('other', env).pushManifest(m.descriptor, m.bytes, '2.0.0');
    assert.deepEqual(
      (await listStore(env)).map((e) => `${e.repository}:${e.tag}`),
      ['other:2.0.0', 'team/agent:1.0.0'],
    );
    const store = await openTarget(parseReference('team/agent:1.0.0'), { env });
    assert.equal((await store.resolve('1.0.0')).digest, m.descriptor.digest);
    assert.deepEqual(await store.tags(), ['1.0.0']);
    const layout = await openTarget(parseReference(`oci:${join(dir.path, 'data', 'store')}`));
    assert.ok(layout instanceof LayoutTarget);
    assert.deepEqual((await layout.tags()).sort(), ['other:2.0.0', 'team/agent:1.0.0']);
    assert.throws(() => openStore('Bad Name', env), expectCode('RG105'));
  });
});
