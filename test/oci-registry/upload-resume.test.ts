import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Descriptor, parseReference, sha256 } from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

function ref(s: string): RegistryReference {
  return parseReference(s) as RegistryReference;
}

function blob(bytes: Buffer): Descriptor {
  return { mediaType: 'application/octet-stream', digest: sha256(bytes), size: bytes.length };
}

/** Odd-sized pieces, so chunk boundaries never line up with the source's. */
function pieces(bytes: Buffer, size = 10_007): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return Readable.from(out);
}

async function digestOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of stream) hash.update(c as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

describe('a 5xx during a blob upload does not fail the push (issue 9.4)', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-resume-'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  // The first two requests of every URL (each PATCH has its own _state URL) are answered 500 by the proxy.
  const everyUrlTwice = () => [{ path: /./, fault: 'error-500' as const, perUrl: 2 }];

  it('chunked: every PATCH failing twice still uploads, resumed from where the registry stands', async () => {
    const proxy = await startFaultProxy(registry.host, everyUrlTwice());
    const target = connectRegistry(ref(`${proxy.host}/resume/chunked`), {
      chunkSize: 64 * 1024,
      chunkThreshold: 64 * 1024,
      retryBaseMs: 1,
    });
    const direct = connectRegistry(ref(`${registry.host}/resume/chunked`));
    try {
      const data = randomBytes(200 * 1024 + 5);
      let reopened = 0;
      await target.pushBlob(blob(data), pieces(data), {
        reopen: async () => {
          reopened++;
          return pieces(data, 4093);
        },
      });
      assert.equal(await digestOf(await direct.fetchBlob(blob(data))), blob(data).digest);
      const patches = proxy.requests.filter((r) => r.method === 'PATCH');
      assert.ok(patches.filter((p) => p.status === 500).length >= 4, 'every chunk was answered 500 at least once');
      assert.equal(patches.filter((p) => p.status === 202).length, 4, 'ceil(200 KiB / 64 KiB) chunks landed');
      assert.ok(
        proxy.requests.some((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/') && r.status === 204),
        'asked the registry where the upload stands',
      );
      assert.ok(reopened >= 1, 'bytes lost in flight were read again from the source');
    } finally {
      await proxy.stop();
      await target.close();
      await direct.close();
    }
  });

  it('monolithic: the POST and the PUT failing twice each still upload', async () => {
    const proxy = await startFaultProxy(registry.host, everyUrlTwice());
    const target = connectRegistry(ref(`${proxy.host}/resume/mono`), { retryBaseMs: 1 });
    const direct = connectRegistry(ref(`${registry.host}/resume/mono`));
    try {
      const data = randomBytes(1024 * 1024);
      await target.pushBlob(blob(data), pieces(data));
      assert.equal(await digestOf(await direct.fetchBlob(blob(data))), blob(data).digest);
      assert.deepEqual(
        proxy.requests.filter((r) => r.method === 'PUT').map((r) => r.status),
        [500, 500, 201],
      );
      assert.equal(proxy.requests.filter((r) => r.method === 'PATCH').length, 0, 'one PUT, no chunks');
    } finally {
      await proxy.stop();
      await target.close();
      await direct.close();
    }
  });

  it('the retry budget still ends a registry that never recovers: RG043, nothing committed', async () => {
    const proxy = await startFaultProxy(registry.host, [{ method: 'PATCH', path: /./, fault: 'error-500' }]);
    const target = connectRegistry(ref(`${proxy.host}/resume/dead`), {
      chunkSize: 16 * 1024,
      chunkThreshold: 16 * 1024,
      retryBaseMs: 1,
      maxRetries: 2,
    });
    try {
      const data = randomBytes(40_000);
      await assert.rejects(
        target.pushBlob(blob(data), pieces(data), { reopen: async () => pieces(data) }),
        (e: unknown) => (e as { code?: string }).code === 'RG043',
      );
      assert.equal(proxy.requests.filter((r) => r.method === 'PATCH').length, 3, 'first try + 2 retries');
      assert.equal(await target.exists(blob(data)), false);
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('CLI: push of a 64 MiB package through the proxy succeeds, and pulls back with the same digest', async () => {
    const pkg = await writePackage(join(root, 'pkg'), { files: { 'data/big.bin': randomBytes(64 * 1024 * 1024) } });
    const proxy = await startFaultProxy(registry.host, everyUrlTwice());
    const env = {
      AIONCTL_HOME: join(root, 'home'),
      DOCKER_CONFIG: join(root, 'docker'),
      AIONCTL_REGISTRY_RETRY_BASE_MS: '1',
    };
    try {
      const pushed = await runCli(
        ['push', pkg, `${proxy.host}/resume/pkg:1.0.0`, '--chunk-size', String(16 * 1024 * 1024), '--json'],
        { env, timeoutMs: 240_000 },
      );
      assert.equal(pushed.code, 0, pushed.stderr);
      const digest = parseJson<{ digest: string }>(pushed).digest;
      assert.ok(
        proxy.requests.filter((r) => r.method === 'PATCH' && r.status === 500).length >= 4,
        'PATCH chunks were answered 500',
      );
      const pulled = await runCli(['pull', '--insecure-skip-verify', `${registry.host}/resume/pkg:1.0.0`, '--json'], {
        env: { ...env, AIONCTL_HOME: join(root, 'home2') },
        timeoutMs: 120_000,
      });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(parseJson<{ digest: string }>(pulled).digest, digest);
    } finally {
      await proxy.stop();
    }
  });
});
