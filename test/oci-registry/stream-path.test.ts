// The streamed blob path of push and pull (issue 15): a large blob goes up in ONE PATCH by default and is read by
// the destination straight from the source's self-verifying stream (progress reported by the destination, no
// pass-through stage). Every byte is still verified: a byte flipped in the middle of a blob, on either side,
// fails the transfer with RG009 and leaves nothing behind (no blob in the registry, no blob, temp file or tag in
// the store); an abort mid-blob leaves nothing either.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import {
  type CopyEvent,
  copyArtifact,
  type Descriptor,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_MAX,
  descriptorFor,
  LayoutTarget,
  MEDIA_TYPES,
  openStore,
  parseReference,
  pullArtifact,
} from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { tempDir } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const MiB = 1024 * 1024;
/** Over the monolithic PUT limit: the streamed (PATCH) path. */
const SIZE = 12 * MiB;

function ref(s: string): RegistryReference {
  return parseReference(s) as RegistryReference;
}

/** A layout holding one image: an empty config and one random layer of `size` bytes, tagged `v1`. */
async function imageLayout(root: string, size: number): Promise<{ layout: LayoutTarget; layer: Descriptor }> {
  const layout = new LayoutTarget(root);
  const data = randomBytes(size);
  const layer = descriptorFor('application/octet-stream', data);
  const config = Buffer.from('{}');
  await layout.pushBlob(descriptorFor(MEDIA_TYPES.empty, config), config);
  await layout.pushBlob(layer, data);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.imageManifest,
      config: descriptorFor(MEDIA_TYPES.empty, config),
      layers: [layer],
    }),
  );
  await layout.pushManifest(descriptorFor(MEDIA_TYPES.imageManifest, bytes), bytes, 'v1');
  return { layout, layer };
}

/** Flips one byte in the middle of a file (same size, wrong digest). */
async function flipMiddleByte(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const at = Math.floor(size / 2);
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, at);
    one[0] = (one[0] ?? 0) ^ 0x5a;
    await handle.write(one, 0, 1, at);
  } finally {
    await handle.close();
  }
}

function progressOf(events: CopyEvent[], digest: string): number[] {
  return events.flatMap((e) => (e.kind === 'blob-progress' && e.descriptor.digest === digest ? [e.transferred] : []));
}

function isIncreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v > (values[i - 1] as number));
}

/** What the store holds: blob file names, ingest temp files, and the ref.names of index.json. */
async function storeContents(home: string): Promise<{ blobs: string[]; temps: string[]; refs: string[] }> {
  const root = join(home, 'data', 'store');
  const blobs = await readdir(join(root, 'blobs', 'sha256')).catch(() => [] as string[]);
  const temps = await readdir(join(root, 'ingest')).catch(() => [] as string[]);
  let refs: string[] = [];
  try {
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    refs = index.manifests.flatMap((m) => {
      const name = m.annotations?.['org.opencontainers.image.ref.name'];
      return name ? [name] : [];
    });
  } catch {
    // no index.json: nothing tagged
  }
  return { blobs, temps, refs };
}

describe('streamed blob path: one PATCH, progress from the destination, every byte verified', () => {
  let registry: TestRegistry;
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    registry = await startRegistry();
    dir = await tempDir('aionctl-stream-path-');
  });
  after(async () => {
    await registry?.stop();
    await dir?.cleanup();
  });

  it('defaults: blobs up to 1 GiB go up in one streamed PATCH; small ones in one PUT', () => {
    assert.equal(DEFAULT_CHUNK_SIZE, 1024 * MiB);
    assert.ok(SIZE > DEFAULT_MONOLITHIC_MAX && SIZE < DEFAULT_CHUNK_SIZE);
  });

  it(
    'push sends a 12 MiB blob in ONE PATCH with rising progress; pull stores it with rising progress',
    {
      timeout: 120_000,
    },
    async () => {
      const { layout, layer } = await imageLayout(join(dir.path, 'ok'), SIZE);
      const proxy = await startFaultProxy(registry.host);
      const remote = connectRegistry(ref(`${proxy.host}/stream/ok`), { access: 'push' });
      const pushed: CopyEvent[] = [];
      try {
        await copyArtifact(layout, 'v1', remote, 'v1', { onProgress: (e) => pushed.push(e) });
      } finally {
        await remote.close();
        await proxy.stop();
      }
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      assert.equal(patches.length, 1, 'one PATCH for the large blob');
      assert.equal(patches[0]?.headers['content-range'], `0-${SIZE - 1}`);
      const up = progressOf(pushed, layer.digest);
      assert.ok(up.length > 1, 'several progress events while the blob streams');
      assert.ok(isIncreasing(up));
      assert.equal(up.at(-1), SIZE);

      const home = join(dir.path, 'home-ok');
      const source = connectRegistry(ref(`${registry.host}/stream/ok:v1`));
      const pulled: CopyEvent[] = [];
      try {
        await pullArtifact(source, parseReference(`${registry.host}/stream/ok:v1`), {
          env: { AIONCTL_HOME: home },
          onProgress: (e) => pulled.push(e),
        });
      } finally {
        await source.close();
      }
      const down = progressOf(pulled, layer.digest);
      assert.ok(down.length > 1 && isIncreasing(down));
      assert.equal(down.at(-1), SIZE);
      const store = openStore(`${registry.host}/stream/ok`, { AIONCTL_HOME: home });
      assert.deepEqual(await readFile(store.blobPath(layer.digest)), await readFile(layout.blobPath(layer.digest)));
      assert.deepEqual((await storeContents(home)).temps, []);
    },
  );

  it(
    'push: a byte flipped mid-blob in the source layout is RG009; the registry has neither blob nor tag',
    {
      timeout: 120_000,
    },
    async () => {
      const { layout, layer } = await imageLayout(join(dir.path, 'bad-src'), SIZE);
      await flipMiddleByte(layout.blobPath(layer.digest));
      const remote = connectRegistry(ref(`${registry.host}/stream/badsrc`), { access: 'push' });
      try {
        await assert.rejects(copyArtifact(layout, 'v1', remote, 'v1'), (e: unknown) => {
          assert.ok(e instanceof AionError);
          assert.equal(e.code, 'RG009');
          return true;
        });
        assert.equal(await remote.exists(layer), false, 'no corrupt blob committed');
        await assert.rejects(remote.resolve('v1'), (e: unknown) => (e as AionError).code === 'RG003');
      } finally {
        await remote.close();
      }
    },
  );

  it(
    'pull: a registry serving a blob with a byte flipped mid-way is RG009; the store keeps nothing',
    {
      timeout: 120_000,
    },
    async () => {
      const { layout, layer } = await imageLayout(join(dir.path, 'bad-reg'), SIZE);
      const remote = connectRegistry(ref(`${registry.host}/stream/badreg`), { access: 'push' });
      try {
        await copyArtifact(layout, 'v1', remote, 'v1');
      } finally {
        await remote.close();
      }
      const hex = layer.digest.slice('sha256:'.length);
      await flipMiddleByte(
        join(registry.storageRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'),
      );
      const home = join(dir.path, 'home-bad');
      const source = connectRegistry(ref(`${registry.host}/stream/badreg:v1`));
      try {
        await assert.rejects(
          pullArtifact(source, parseReference(`${registry.host}/stream/badreg:v1`), { env: { AIONCTL_HOME: home } }),
          (e: unknown) => (e as AionError).code === 'RG009',
        );
      } finally {
        await source.close();
      }
      const left = await storeContents(home);
      assert.ok(!left.blobs.includes(hex), 'the corrupt blob is not in the store');
      assert.deepEqual(left.temps, [], 'no temp file left in ingest/');
      assert.deepEqual(left.refs, [], 'nothing tagged');
    },
  );

  it('pull: an abort mid-blob rejects and leaves no blob, temp file or tag', { timeout: 120_000 }, async () => {
    const { layout, layer } = await imageLayout(join(dir.path, 'abort'), SIZE);
    const remote = connectRegistry(ref(`${registry.host}/stream/abort`), { access: 'push' });
    try {
      await copyArtifact(layout, 'v1', remote, 'v1');
    } finally {
      await remote.close();
    }
    const home = join(dir.path, 'home-abort');
    const controller = new AbortController();
    const source = connectRegistry(ref(`${registry.host}/stream/abort:v1`));
    let progressed = 0;
    try {
      await assert.rejects(
        pullArtifact(source, parseReference(`${registry.host}/stream/abort:v1`), {
          env: { AIONCTL_HOME: home },
          signal: controller.signal,
          onProgress: (e) => {
            if (e.kind === 'blob-progress' && e.descriptor.digest === layer.digest && progressed++ === 0) {
              controller.abort();
            }
          },
        }),
      );
    } finally {
      await source.close();
    }
    assert.ok(progressed > 0, 'the abort came mid-blob');
    const left = await storeContents(home);
    assert.ok(!left.blobs.includes(layer.digest.slice('sha256:'.length)));
    assert.deepEqual(left.temps, []);
    assert.deepEqual(left.refs, []);
  });
});
