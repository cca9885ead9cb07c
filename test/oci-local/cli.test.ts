import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { LayoutTarget, MEDIA_TYPES, REF_NAME, sha256Stream } from '../../src/lib/oci/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { writePackage } from './fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
async function scratch(): Promise<string> {
  const dir = await tempDir('aionctl-ocicli-');
  cleanups.push(dir.cleanup);
  return dir.path;
}

interface PackJson {
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
}

/** Every tag resolves, every manifest and blob it references exists and verifies. */
async function assertLayoutIntact(layout: LayoutTarget, expected: Record<string, string>): Promise<void> {
  const index = await layout.readIndex();
  const refNames = index.manifests.map((d) => d.annotations?.[REF_NAME]);
  assert.equal(new Set(refNames).size, refNames.length, 'no duplicate ref.name');
  for (const [tag, digest] of Object.entries(expected)) {
    const { descriptor, bytes } = await layout.fetchManifest(tag);
    assert.equal(descriptor.digest, digest, tag);
    const manifest = JSON.parse(Buffer.from(bytes).toString()) as { config: { digest: string }; layers: [] };
    for (const blob of [manifest.config, ...manifest.layers] as { digest: string; size: number; mediaType: string }[]) {
      const { digest: actual } = await sha256Stream((await layout.fetchBlob(blob)) as Readable);
      assert.equal(actual, blob.digest);
    }
  }
  assert.deepEqual(await readdir(join(layout.root, 'ingest')).catch(() => []), [], 'no temp files left');
  const rootEntries = await readdir(layout.root);
  assert.ok(!rootEntries.includes('index.json.lock'), 'every lock was released');
  assert.ok(!rootEntries.some((e) => e.endsWith('.tmp')), 'no index.json temp file left');
}

describe('aionctl pack / copy', () => {
  it('packs into the isolated store as NAME:VERSION and prints the digest; --json has ref, digest, mediaType, size', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'));
    const env = { AIONCTL_HOME: join(root, 'home') };
    const plain = await runCli(['pack', dir], { env });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    const json = parseJson<PackJson>(await runCli(['pack', dir, '--json'], { env }));
    assert.deepEqual(Object.keys(json).sort(), ['digest', 'mediaType', 'moved', 'ref', 'size']);
    assert.equal(json.ref, 'summarize_text:1.3.0');
    assert.equal(json.digest, plain.stdout.trim());
    assert.equal(json.mediaType, MEDIA_TYPES.imageManifest);
    const index = JSON.parse(await readFile(join(root, 'home', 'data', 'store', 'index.json'), 'utf8'));
    assert.deepEqual(
      index.manifests.map((d: { annotations: Record<string, string> }) => d.annotations[REF_NAME]),
      ['summarize_text:1.3.0'],
    );

    const retagged = parseJson<PackJson>(await runCli(['pack', dir, '-t', '2.0.0+build.1', '--json'], { env }));
    assert.equal(retagged.ref, 'summarize_text:2.0.0_build.1');

    const layoutOut = parseJson<PackJson>(
      await runCli(['pack', dir, '--output', `oci:${join(root, 'out')}:edge`, '--json'], { env }),
    );
    assert.equal(layoutOut.digest, json.digest);
    assert.equal((await new LayoutTarget(join(root, 'out')).resolve('edge')).digest, json.digest);
  });

  it('refuses an invalid package with a clear error and leaves the store empty', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'), { version: 'not-semver' });
    const result = await runCli(['pack', dir], { env: { AIONCTL_HOME: join(root, 'home') } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /SC007: .*aip\.yaml:\d+:\d+: invalid package: metadata\.version/);
    await assert.rejects(readdir(join(root, 'home', 'data', 'store')));
  });

  it('copies store -> oci: layout -> store with identical digests; unknown tags fail with RG003', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'));
    const env = { AIONCTL_HOME: join(root, 'home') };
    const packed = parseJson<PackJson>(await runCli(['pack', dir, '--json'], { env }));
    const layout = `oci:${join(root, 'export')}`;
    const out = parseJson<{ digest: string; blobsCopied: number; destination: string }>(
      await runCli(['copy', 'summarize_text:1.3.0', layout, '--json'], { env }),
    );
    assert.equal(out.digest, packed.digest);
    assert.equal(out.blobsCopied, 6);
    assert.equal(out.destination, `${layout}:1.3.0`);
    const back = parseJson<{ digest: string }>(
      await runCli(['copy', `${layout}:1.3.0`, 'other_name:9.9.9', '--json'], { env }),
    );
    assert.equal(back.digest, packed.digest);
    const missing = await runCli(['copy', 'summarize_text:0.0.1', layout], { env });
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /RG003: tag "0\.0\.1" not found/);
  });

  it(
    '8 concurrent aionctl processes packing and copying into ONE layout lose nothing (oras#1888)',
    {
      timeout: 120_000,
    },
    async () => {
      const root = await scratch();
      const env = { AIONCTL_HOME: join(root, 'home') };
      const shared = join(root, 'shared');
      const packages = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          writePackage(join(root, `pkg${i}`), {
            name: `agent${i}`,
            version: `1.0.${i}`,
            files: { 'data/unique.txt': `package ${i}\n`.repeat(1000 * (i + 1)) },
          }),
        ),
      );
      // 8 packs straight into the shared layout, all at once
      const packs = await Promise.all(
        packages.map((dir, i) =>
          runCli(['pack', dir, '--output', `oci:${shared}:p${i}`, '--json'], { env, timeoutMs: 90_000 }),
        ),
      );
      const expected: Record<string, string> = {};
      packs.forEach((r, i) => {
        assert.equal(r.code, 0, r.stderr);
        expected[`p${i}`] = parseJson<PackJson>(r).digest;
      });
      // and 8 copies from the store into the same layout at once (pack into the store first, sequentially is not
      // required: the store is one layout too, so do that concurrently as well)
      const stored = await Promise.all(
        packages.map((dir) => runCli(['pack', dir, '--json'], { env, timeoutMs: 90_000 })),
      );
      for (const r of stored) assert.equal(r.code, 0, r.stderr);
      const copies = await Promise.all(
        packages.map((_, i) =>
          runCli(['copy', `agent${i}:1.0.${i}`, `oci:${shared}:c${i}`, '--json'], { env, timeoutMs: 90_000 }),
        ),
      );
      copies.forEach((r, i) => {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(parseJson<{ digest: string }>(r).digest, expected[`p${i}`]);
        expected[`c${i}`] = expected[`p${i}`] as string;
      });
      const layout = new LayoutTarget(shared);
      assert.deepEqual(await layout.tags(), Object.keys(expected).sort());
      await assertLayoutIntact(layout, expected);
      const store = new LayoutTarget(join(root, 'home', 'data', 'store'));
      assert.equal((await store.tags()).length, 8);
      await assertLayoutIntact(
        store,
        Object.fromEntries(packages.map((_, i) => [`agent${i}:1.0.${i}`, expected[`p${i}`] as string])),
      );
    },
  );
});
