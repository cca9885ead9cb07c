// Blob ingest into a layout: a stream that verifies itself is hashed once (not again by the layout), anything
// else is verified by the layout; either way a blob is renamed into blobs/ only after its bytes matched and were
// fsynced (large blobs flush in the background while they stream), and a failed stream leaves nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import {
  descriptorFor,
  forwardVerified,
  isVerifiedStream,
  LayoutTarget,
  markVerified,
} from '../../src/lib/oci/index.js';
import { tempDir } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function freshLayout(): Promise<LayoutTarget> {
  const dir = await tempDir('aionctl-ingest-');
  cleanups.push(dir.cleanup);
  return new LayoutTarget(join(dir.path, 'layout'));
}

const blobNames = async (t: LayoutTarget) => readdir(join(t.root, 'blobs', 'sha256'));
const ingestNames = async (t: LayoutTarget) => readdir(join(t.root, 'ingest'));

/** Counts the bytes every sha256 Hash in this process is fed while `fn` runs. */
async function hashedBytes(fn: () => Promise<void>): Promise<number> {
  const proto = Object.getPrototypeOf(createHash('sha256')) as { update: (...args: unknown[]) => unknown };
  const original = proto.update;
  let n = 0;
  proto.update = function (this: unknown, data: unknown, ...rest: unknown[]) {
    n += (data as { length?: number }).length ?? 0;
    return original.call(this, data, ...rest);
  };
  try {
    await fn();
  } finally {
    proto.update = original;
  }
  return n;
}

describe('layout blob ingest', () => {
  it('a layout-to-layout copy of a 40 MiB blob hashes it once and stores it intact (background flushes)', async () => {
    const src = await freshLayout();
    const dst = await freshLayout();
    const bytes = randomBytes(40 * MiB);
    const d = descriptorFor('application/octet-stream', bytes);
    await src.pushBlob(d, bytes);
    const n = await hashedBytes(async () => {
      const stream = await src.fetchBlob(d);
      assert.ok(isVerifiedStream(stream, d), 'a layout blob stream verifies itself');
      // a pass-through stage (as the copy engine's progress counter) may forward the claim
      const counted = forwardVerified(stream, new PassThrough());
      stream.pipe(counted);
      await dst.pushBlob(d, counted);
    });
    assert.equal(n, bytes.length, 'hashed once: by the source stream, not again by the destination');
    assert.ok((await readFile(dst.blobPath(d.digest))).equals(bytes));
    assert.deepEqual(await ingestNames(dst), []);
  });

  it('a self-verifying stream that fails at its end leaves nothing in blobs/ or ingest/', async () => {
    const src = await freshLayout();
    const dst = await freshLayout();
    const bytes = randomBytes(3 * MiB);
    const d = descriptorFor('application/octet-stream', bytes);
    await src.pushBlob(d, bytes);
    // corrupt the source's file after it was stored: its own verification must fail the stream at the end
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0xff;
    await writeFile(src.blobPath(d.digest), tampered);
    await assert.rejects(
      async () => dst.pushBlob(d, await src.fetchBlob(d)),
      (err: unknown) => err instanceof AionError && err.code === 'RG009',
    );
    assert.deepEqual(await blobNames(dst), []);
    assert.deepEqual(await ingestNames(dst), []);
  });

  it('a stream claiming another digest than the descriptor is verified by the layout (and refused)', async () => {
    const dst = await freshLayout();
    const good = randomBytes(MiB);
    const d = descriptorFor('application/octet-stream', good);
    const other = randomBytes(MiB);
    const lying = markVerified(Readable.from([other]), descriptorFor('application/octet-stream', other).digest);
    assert.equal(isVerifiedStream(lying, d), false);
    await assert.rejects(dst.pushBlob(d, lying), (err: unknown) => err instanceof AionError && err.code === 'RG009');
    assert.deepEqual(await blobNames(dst), []);
    assert.deepEqual(await ingestNames(dst), []);
  });

  it('a plain stream is verified while it is written: short content is refused, exact content stored', async () => {
    const dst = await freshLayout();
    const bytes = randomBytes(2 * MiB + 17);
    const d = descriptorFor('application/octet-stream', bytes);
    await assert.rejects(
      dst.pushBlob(d, Readable.from([bytes.subarray(0, MiB)])),
      (err: unknown) => err instanceof AionError && err.code === 'RG009',
    );
    assert.deepEqual(await blobNames(dst), []);
    await dst.pushBlob(d, Readable.from([bytes.subarray(0, MiB), bytes.subarray(MiB)]));
    assert.ok((await readFile(dst.blobPath(d.digest))).equals(bytes));
    assert.deepEqual(await ingestNames(dst), []);
  });

  it('ingest (digest unknown up front) of a 40 MiB stream stores it under its digest', async () => {
    const dst = await freshLayout();
    const bytes = randomBytes(40 * MiB);
    const { digest, size } = await dst.ingest(Readable.from([bytes.subarray(0, 20 * MiB), bytes.subarray(20 * MiB)]));
    assert.equal(digest, descriptorFor('', bytes).digest);
    assert.equal(size, bytes.length);
    assert.ok((await readFile(dst.blobPath(digest))).equals(bytes));
    // the same content again: nothing new, the temp file removed
    await dst.ingest(Readable.from([bytes]));
    assert.deepEqual(await blobNames(dst), [digest.slice('sha256:'.length)]);
    assert.deepEqual(await ingestNames(dst), []);
  });
});
