import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import { copyArtifact, type Descriptor, MEDIA_TYPES, parseReference, sha256 } from '../../src/lib/oci/index.js';
import { sweepIngest } from '../../src/lib/oci/ingest.js';
import { LayoutTarget } from '../../src/lib/oci/layout.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry } from '../../src/lib/oci/registry/index.js';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startHostileServer } from '../helpers/hostile-server.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

function manifestWithConfig(config: Descriptor): { bytes: Buffer; descriptor: Descriptor } {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageManifest, config, layers: [] }),
  );
  return { bytes, descriptor: { mediaType: MEDIA_TYPES.imageManifest, digest: sha256(bytes), size: bytes.length } };
}

/** A registry serving one manifest whose blobs stream forever (declared `size`), for interrupt/cap tests. */
async function endlessBlobRegistry(config: Descriptor, layers: Descriptor[] = []) {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageManifest, config, layers }));
  const digest = sha256(bytes);
  const server = await startHostileServer((req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': MEDIA_TYPES.imageManifest,
        'docker-content-digest': digest,
        'content-length': String(bytes.length),
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    if (req.url?.includes('/blobs/')) {
      const d = [config, ...layers].find((x) => req.url?.includes(x.digest));
      if (d?.digest === sha256('{}')) {
        res.writeHead(200, { 'content-length': '2' });
        res.end('{}');
        return;
      }
      res.writeHead(200, { 'content-length': String(d?.size ?? 0) });
      const chunk = Buffer.alloc(256 * 1024, 1);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', () => setTimeout(pump, 50));
      };
      pump();
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN' }] }));
  });
  return { server, digest };
}

describe('10.16: small blobs are capped, ingest/ never keeps partial files', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ path: root, cleanup } = await tempDir('aionctl-guards-'));
  });
  after(async () => {
    await cleanup?.();
  });

  it('a config declaring 10 GB is refused (RG040) before a byte is fetched', { timeout: 30_000 }, async () => {
    const config: Descriptor = { mediaType: MEDIA_TYPES.empty, digest: sha256('x'), size: 10 * 1024 ** 3 };
    const { server, digest } = await endlessBlobRegistry(config);
    const source = connectRegistry(parseReference(`${server.host}/g/huge`) as RegistryReference, {
      anonymous: true,
      maxRetries: 0,
    });
    const layout = new LayoutTarget(join(root, 'layout1'));
    try {
      const { descriptor } = manifestWithConfig(config);
      assert.equal(descriptor.digest, digest);
      await assert.rejects(copyArtifact(source, digest, layout, 'x'), (e: unknown) => {
        assert.ok(e instanceof AionError);
        assert.equal(e.code, 'RG040');
        return true;
      });
      assert.equal(server.requests.filter((r) => r.url.includes('/blobs/')).length, 0);
    } finally {
      await source.close();
      await server.stop();
    }
  });

  it('SIGTERM during a pull leaves no partial file in store/ingest', { timeout: 60_000 }, async () => {
    const layer: Descriptor = { mediaType: 'application/octet-stream', digest: sha256('y'), size: 4 * 1024 ** 3 };
    const config: Descriptor = { mediaType: MEDIA_TYPES.empty, digest: sha256('{}'), size: 2 };
    const { server } = await endlessBlobRegistry(config, [layer]);
    const home = join(root, 'home-term');
    const ingest = join(home, 'data', 'store', 'ingest');
    const child = spawn(
      process.execPath,
      [BIN, 'pull', '--insecure-skip-verify', '--no-referrers', `${server.host}/g/term:1.0`],
      { env: { ...process.env, AIONCTL_HOME: home, DOCKER_CONFIG: join(root, 'docker') }, stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    try {
      // wait until the layer is being written
      const deadline = Date.now() + 40_000;
      let partial: string[] = [];
      while (Date.now() < deadline) {
        partial = (await readdir(ingest).catch(() => [] as string[])).filter((n) =>
          n.startsWith(layer.digest.slice(7, 19)),
        );
        if (partial.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(partial.length > 0, 'the layer was being written to ingest/');
      child.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM', 'the signal still ends the process');
      assert.deepEqual(await readdir(ingest), [], 'ingest/ is empty');
    } finally {
      child.kill('SIGKILL');
      await server.stop();
    }
  });

  it('opening a layout sweeps temp files of dead writers, keeps live and recent ones', async () => {
    const dir = join(root, 'layout2');
    const ingest = join(dir, 'ingest');
    await mkdir(ingest, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(dead.stdout);
    const old = new Date(Date.now() - 5 * 60_000);
    const ancient = new Date(Date.now() - 2 * 24 * 3600_000);
    const files = {
      deadOld: `${'a'.repeat(64)}.${deadPid}.abcdef012345`,
      deadFresh: `stream.${deadPid}.abcdef012346`,
      liveOld: `${'b'.repeat(64)}.${process.pid}.abcdef012347`,
      liveAncient: `stream.1.abcdef012348`,
    };
    for (const name of Object.values(files)) await writeFile(join(ingest, name), 'partial');
    await utimes(join(ingest, files.deadOld), old, old);
    await utimes(join(ingest, files.liveOld), old, old);
    await utimes(join(ingest, files.liveAncient), ancient, ancient);
    // opening the layout for a write sweeps (pid 1 is alive but the file is a day old)
    const layout = new LayoutTarget(dir);
    const data = randomBytes(100);
    await layout.pushBlob({ mediaType: 'application/octet-stream', digest: sha256(data), size: 100 }, data);
    assert.deepEqual((await readdir(ingest)).sort(), [files.deadFresh, files.liveOld].sort());
    assert.deepEqual(await sweepIngest(ingest), [], 'nothing else is stale');
  });
});

describe('10.12: a registry that forbids listing tags does not fail pulls', () => {
  let registry: TestRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    registry = await startRegistry();
    ({ path: root, cleanup } = await tempDir('aionctl-notags-'));
  });
  after(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('tags/list answering 403: pull succeeds with a warning', { timeout: 120_000 }, async () => {
    const env = { AIONCTL_HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    const pkg = await writePackage(join(root, 'pkg'));
    const pushed = await runCli(['push', pkg, `${registry.host}/n/pkg:1.0.0`], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    const proxy = await startFaultProxy(registry.host, [{ path: /\/tags\/list/, fault: 'error-403' }]);
    try {
      const pulled = await runCli(['pull', '--insecure-skip-verify', `${proxy.host}/n/pkg:1.0.0`], {
        env: { ...env, AIONCTL_HOME: join(root, 'home2') },
      });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stderr, /does not allow listing tags \(RG007\)/);
      assert.ok(proxy.requests.some((r) => r.url.includes('/tags/list') && r.status === 403));
      // the cosign tags were asked for one by one instead
      assert.ok(proxy.requests.some((r) => /\/manifests\/sha256-[a-f0-9]{64}\.sig$/.test(r.url)));
    } finally {
      await proxy.stop();
    }
  });
});
