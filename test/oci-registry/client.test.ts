import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import { type Descriptor, MEDIA_TYPES, parseReference, sha256 } from '../../src/lib/oci/index.js';
import type { RegistryReference } from '../../src/lib/oci/reference.js';
import { connectRegistry, presentTags, type RegistryTarget } from '../../src/lib/oci/registry/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

function ref(s: string): RegistryReference {
  return parseReference(s) as RegistryReference;
}

function blob(bytes: Buffer, mediaType = 'application/octet-stream'): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function manifestFor(layers: Descriptor[], extra: Record<string, unknown> = {}): { bytes: Uint8Array; d: Descriptor } {
  const m = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.imageManifest,
    artifactType: 'application/vnd.aionos.test.v1',
    config: { mediaType: MEDIA_TYPES.empty, digest: sha256('{}'), size: 2 },
    layers,
    ...extra,
  };
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(m)));
  return { bytes, d: { mediaType: MEDIA_TYPES.imageManifest, digest: sha256(bytes), size: bytes.length } };
}

async function pushArtifact(target: RegistryTarget, layers: Buffer[], tag: string, extra = {}) {
  await target.pushBlob(blob(Buffer.from('{}'), MEDIA_TYPES.empty), new Uint8Array(Buffer.from('{}')));
  const descs = layers.map((l) => blob(l));
  for (const [i, l] of layers.entries()) await target.pushBlob(descs[i] as Descriptor, Readable.from([l]));
  const m = manifestFor(descs, extra);
  await target.pushManifest(m.d, m.bytes, tag);
  return m;
}

describe('registry client against the real docker-registry', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  it(
    'uploads large blobs in PATCH chunks and small ones monolithically; reads them back verified',
    {
      timeout: 60_000,
    },
    async () => {
      const big = randomBytes(300 * 1024 + 17);
      const target = connectRegistry(ref(`${registry.host}/client/chunks`), {
        chunkSize: 64 * 1024,
        chunkThreshold: 64 * 1024,
      });
      const proxy = await startFaultProxy(registry.host);
      const viaProxy = connectRegistry(ref(`${proxy.host}/client/chunks`), {
        chunkSize: 64 * 1024,
        chunkThreshold: 64 * 1024,
      });
      try {
        // stream it in odd-sized pieces so chunk boundaries never line up with the source
        const pieces = [];
        for (let i = 0; i < big.length; i += 10_007) pieces.push(big.subarray(i, i + 10_007));
        await viaProxy.pushBlob(blob(big), Readable.from(pieces));
        const patches = proxy.requests.filter((r) => r.method === 'PATCH');
        assert.equal(patches.length, 5, 'ceil(300 KiB / 64 KiB) PATCH requests');
        assert.deepEqual(
          patches.map((p) => p.headers['content-range']),
          ['0-65535', '65536-131071', '131072-196607', '196608-262143', `262144-${big.length - 1}`],
        );
        // Location was used verbatim: distribution's _state query travelled on every PATCH
        assert.ok(patches.every((p) => p.url.includes('_state=')));
        const small = Buffer.from('small blob');
        await viaProxy.pushBlob(blob(small), small);
        assert.equal(proxy.requests.filter((r) => r.method === 'PATCH').length, 5, 'small blob: no PATCH');
        assert.ok(proxy.requests.some((r) => r.method === 'PUT' && r.url.includes('digest=sha256')));
        assert.equal(await target.exists(blob(big)), true);
        assert.deepEqual(await readStream(await target.fetchBlob(blob(big))), big);
        // pushing again is a no-op (HEAD says it exists)
        const before = proxy.requests.length;
        await viaProxy.pushBlob(blob(big), Readable.from([big]));
        assert.deepEqual(
          proxy.requests.slice(before).map((r) => r.method),
          ['HEAD'],
        );
      } finally {
        await proxy.stop();
        await target.close();
        await viaProxy.close();
      }
    },
  );

  it(
    'refuses a source stream that does not match its descriptor and commits nothing',
    {
      timeout: 30_000,
    },
    async () => {
      const target = connectRegistry(ref(`${registry.host}/client/bad`), { chunkSize: 4096, chunkThreshold: 4096 });
      const good = randomBytes(20_000);
      const evil = Buffer.from(good);
      evil[100] = (evil[100] ?? 0) ^ 1;
      await assert.rejects(
        target.pushBlob(blob(good), Readable.from([evil])),
        (e: unknown) => (e as AionError).code === 'RG009',
      );
      assert.equal(await target.exists(blob(good)), false);
      await assert.rejects(
        target.pushBlob(blob(good), new Uint8Array(evil)),
        (e: unknown) => (e as AionError).code === 'RG009',
      );
      await target.close();
    },
  );

  it(
    'a streamed chunk lost in flight, with no way to read the source again: RG043, upload cancelled',
    {
      timeout: 30_000,
    },
    async () => {
      const proxy = await startFaultProxy(registry.host, [
        { method: 'PATCH', path: /uploads/, fault: 'error-500', times: 1 },
      ]);
      const target = connectRegistry(ref(`${proxy.host}/client/patchfail`), {
        chunkSize: 16 * 1024,
        chunkThreshold: 16 * 1024,
        retryBaseMs: 5,
      });
      try {
        const data = randomBytes(40_000);
        await assert.rejects(target.pushBlob(blob(data), Readable.from([data])), (e: unknown) => {
          assert.equal((e as AionError).code, 'RG043');
          assert.match((e as AionError).message, /cannot be resent/);
          return true;
        });
        assert.ok(
          proxy.requests.some((r) => r.method === 'DELETE'),
          'the upload session was cancelled',
        );
        assert.equal(await target.exists(blob(data)), false);
        // a fresh attempt with a replayable source succeeds
        await target.pushBlob(blob(data), data);
        assert.equal(await target.exists(blob(data)), true);
      } finally {
        await proxy.stop();
        await target.close();
      }
    },
  );

  it(
    'retries a monolithic upload the registry answered with 500 (the body is buffered, so resendable)',
    {
      timeout: 30_000,
    },
    async () => {
      const proxy = await startFaultProxy(registry.host, [
        { method: 'PUT', path: /uploads/, fault: 'error-500', times: 2 },
        { method: 'POST', path: /uploads/, fault: 'error-429', times: 1 },
      ]);
      const target = connectRegistry(ref(`${proxy.host}/client/retryput`), { retryBaseMs: 5 });
      try {
        const data = randomBytes(3000);
        await target.pushBlob(blob(data), Readable.from([data]));
        assert.equal(await target.exists(blob(data)), true);
        assert.deepEqual(
          proxy.requests.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.fault ?? 'pass'}`),
          ['POST error-429', 'POST pass', 'PUT error-500', 'PUT error-500', 'PUT pass'],
        );
      } finally {
        await proxy.stop();
        await target.close();
      }
    },
  );

  it('mounts a blob from another repository instead of uploading it', { timeout: 30_000 }, async () => {
    const data = randomBytes(5000);
    const a = connectRegistry(ref(`${registry.host}/mount/src`));
    await a.pushBlob(blob(data), data);
    const proxy = await startFaultProxy(registry.host);
    const b = connectRegistry(ref(`${proxy.host}/mount/dst`), { mountFrom: ['mount/src'] });
    try {
      await b.pushBlob(blob(data), Readable.from([data]));
      const posts = proxy.requests.filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1);
      assert.match(posts[0]?.url ?? '', /mount=sha256%3A[a-f0-9]{64}&from=mount%2Fsrc/);
      assert.ok(!proxy.requests.some((r) => r.method === 'PUT' || r.method === 'PATCH'), 'no upload happened');
      assert.equal(await b.exists(blob(data)), true);
    } finally {
      await proxy.stop();
      await a.close();
      await b.close();
    }
  });

  it(
    'maintains the sha256-<hex> referrers index (no referrers API on distribution 2.8)',
    {
      timeout: 30_000,
    },
    async () => {
      const target = connectRegistry(ref(`${registry.host}/client/referrers`));
      const subject = await pushArtifact(target, [Buffer.from('the artifact')], 'v1');
      assert.equal(await target.hasReferrersApi(), false);
      assert.deepEqual(await target.referrers(subject.d), []);
      const sig = await pushArtifact(target, [Buffer.from('a signature')], 'sig', {
        subject: subject.d,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.aionos.test': 'yes' },
      });
      const sbom = await pushArtifact(target, [Buffer.from('an sbom')], 'sbom', {
        subject: subject.d,
        artifactType: 'application/spdx+json',
      });
      // pushing the same referrer again does not duplicate it
      await target.pushManifest(sig.d, sig.bytes);
      const all = await target.referrers(subject.d);
      assert.deepEqual(all.map((d) => d.digest).sort(), [sig.d.digest, sbom.d.digest].sort());
      const sigEntry = all.find((d) => d.digest === sig.d.digest);
      assert.equal(sigEntry?.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      assert.deepEqual(sigEntry?.annotations, { 'dev.aionos.test': 'yes' });
      assert.deepEqual(
        (await target.referrers(subject.d, 'application/spdx+json')).map((d) => d.digest),
        [sbom.d.digest],
      );
      const tags = await target.tags();
      assert.ok(tags.includes(`sha256-${subject.d.digest.slice(7)}`));
      assert.deepEqual(presentTags(tags), ['sbom', 'sig', 'v1'], 'referrer index tags are hidden by default');
      await target.close();
    },
  );

  it('resolve, fetchManifest and tag agree on digests; unknown tags are RG003', { timeout: 30_000 }, async () => {
    const target = connectRegistry(ref(`${registry.host}/client/resolve`));
    const m = await pushArtifact(target, [Buffer.from('x')], 'one');
    assert.deepEqual(await target.resolve('one'), m.d);
    const fetched = await target.fetchManifest('one');
    assert.deepEqual(fetched.descriptor.digest, m.d.digest);
    assert.equal(fetched.descriptor.artifactType, 'application/vnd.aionos.test.v1');
    await target.tag(m.d, 'two');
    assert.equal((await target.resolve('two')).digest, m.d.digest);
    await assert.rejects(target.resolve('nope'), (e: unknown) => (e as AionError).code === 'RG003');
    await target.close();
  });
});

describe('faults between the client and the real registry (fault-injecting proxy)', () => {
  let registry: TestRegistry;
  const data = randomBytes(256 * 1024);
  let manifest: { bytes: Uint8Array; d: Descriptor };
  before(async () => {
    registry = await startRegistry();
    const target = connectRegistry(ref(`${registry.host}/faults/a`));
    manifest = await pushArtifact(target, [data], 'v1');
    await target.close();
  });
  after(async () => {
    await registry?.stop();
  });

  it('resumes a blob download cut halfway with a Range request', { timeout: 30_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/blobs\/sha256:/, fault: 'reset-half', times: 1 },
    ]);
    const target = connectRegistry(ref(`${proxy.host}/faults/a`), { retryBaseMs: 10 });
    try {
      const got = await readStream(await target.fetchBlob(blob(data)));
      assert.deepEqual(got, data);
      const gets = proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/'));
      assert.equal(gets.length, 2);
      assert.match(String(gets[1]?.headers.range), /^bytes=\d+-$/);
      assert.ok(Number(/bytes=(\d+)-/.exec(String(gets[1]?.headers.range))?.[1]) > 0);
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('retries a manifest whose body is cut off mid-way', { timeout: 30_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'GET', path: /\/manifests\//, fault: 'reset-half', times: 1 },
    ]);
    const target = connectRegistry(ref(`${proxy.host}/faults/a`), { retryBaseMs: 5 });
    try {
      assert.equal((await target.fetchManifest('v1')).descriptor.digest, manifest.d.digest);
      assert.equal(proxy.requests.filter((r) => r.url.includes('/manifests/')).length, 2);
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('a corrupted blob fails the stream with RG009', { timeout: 30_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: 'corrupt' }]);
    const target = connectRegistry(ref(`${proxy.host}/faults/a`));
    try {
      await assert.rejects(readStream(await target.fetchBlob(blob(data))), (e: unknown) => {
        assert.ok(e instanceof AionError);
        assert.equal(e.code, 'RG009');
        return true;
      });
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('retries 500 and 429 (Retry-After) and then succeeds', { timeout: 30_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [
      { path: /\/manifests\//, fault: 'error-500', times: 2 },
      { path: /\/manifests\//, fault: 'error-429', times: 1 },
    ]);
    const target = connectRegistry(ref(`${proxy.host}/faults/a`), { retryBaseMs: 10 });
    try {
      assert.equal((await target.fetchManifest('v1')).descriptor.digest, manifest.d.digest);
      assert.deepEqual(
        proxy.requests.map((r) => r.fault ?? 'pass'),
        ['error-500', 'error-500', 'error-429', 'pass'],
      );
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it('gives up after the retry budget with RG014', { timeout: 30_000 }, async () => {
    const proxy = await startFaultProxy(registry.host, [{ path: /\/manifests\//, fault: 'error-500' }]);
    const target = connectRegistry(ref(`${proxy.host}/faults/a`), { retryBaseMs: 5, maxRetries: 2 });
    try {
      await assert.rejects(target.fetchManifest('v1'), (e: unknown) => (e as AionError).code === 'RG014');
      assert.equal(proxy.requests.length, 3);
    } finally {
      await proxy.stop();
      await target.close();
    }
  });

  it(
    'refuses a manifest whose Docker-Content-Digest disagrees (RG009) or whose body was altered (RG009)',
    {
      timeout: 30_000,
    },
    async () => {
      const proxy = await startFaultProxy(registry.host, [
        { method: 'GET', path: /\/manifests\/v1/, fault: 'wrong-digest-header', times: 1 },
        { method: 'GET', path: /\/manifests\/sha256/, fault: 'corrupt', times: 1 },
      ]);
      const target = connectRegistry(ref(`${proxy.host}/faults/a`));
      try {
        await assert.rejects(target.fetchManifest('v1'), (e: unknown) => (e as AionError).code === 'RG009');
        await assert.rejects(target.fetchManifest(manifest.d), (e: unknown) =>
          ['RG009', 'RG009', 'RG011'].includes((e as AionError).code),
        );
      } finally {
        await proxy.stop();
        await target.close();
      }
    },
  );
});

/** A tiny fake registry endpoint for behaviour distribution 2.8 cannot show (pagination, redirects, huge manifests). */
async function serve(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('protocol behaviour against small local HTTP servers', () => {
  it('follows Link pagination for tags', { timeout: 10_000 }, async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      '/v2/p/tags/list?n=1000': { tags: ['a', 'b'], next: '/v2/p/tags/list?n=2&last=b' },
      '/v2/p/tags/list?n=2&last=b': { tags: ['c', 'd'], next: '/v2/p/tags/list?n=2&last=d' },
      '/v2/p/tags/list?n=2&last=d': { tags: ['e'] },
    };
    const srv = await serve((req, res) => {
      const page = pages[req.url ?? ''];
      if (!page) return void res.writeHead(404).end();
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(page.next ? { link: `<${page.next}>; rel="next"` } : {}),
      });
      res.end(JSON.stringify({ name: 'p', tags: page.tags }));
    });
    const target = connectRegistry(ref(`${srv.host}/p`), { anonymous: true });
    try {
      assert.deepEqual(await target.tags(), ['a', 'b', 'c', 'd', 'e']);
    } finally {
      await target.close();
      await srv.stop();
    }
  });

  it('follows a blob redirect to another host without forwarding Authorization', { timeout: 10_000 }, async () => {
    const content = Buffer.from('redirected blob content');
    const seenByCdn: (string | undefined)[] = [];
    const cdn = await serve((req, res) => {
      seenByCdn.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': String(content.length) }).end(content);
    });
    const seenByRegistry: (string | undefined)[] = [];
    const reg = await serve((req, res) => {
      seenByRegistry.push(req.headers.authorization);
      if (!req.headers.authorization) {
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      }
      res.writeHead(307, { location: `http://${cdn.host}/storage/blob?sig=abc` }).end();
    });
    const target = connectRegistry(ref(`${reg.host}/r`), { credential: { username: 'u', password: 'p' } });
    try {
      const got = await readStream(await target.fetchBlob(blob(content)));
      assert.deepEqual(got, content);
      assert.equal(seenByRegistry.at(-1), `Basic ${Buffer.from('u:p').toString('base64')}`);
      assert.deepEqual(seenByCdn, [undefined], 'the other host never sees the credentials');
    } finally {
      await target.close();
      await reg.stop();
      await cdn.stop();
    }
  });

  it('shows each distinct Warning: 299 from the registry once', { timeout: 10_000 }, async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        warning: '299 - "this registry is deprecated", 299 - "move to \\"new\\" host"',
      });
      res.end('{"name":"w","tags":["a"]}');
    });
    const warnings: string[] = [];
    const target = connectRegistry(ref(`${srv.host}/w`), { anonymous: true, onWarning: (m) => warnings.push(m) });
    try {
      await target.tags();
      await target.tags();
      assert.deepEqual(warnings, ['this registry is deprecated', 'move to "new" host']);
    } finally {
      await target.close();
      await srv.stop();
    }
  });

  it('refuses manifests over 4 MiB before reading them whole', { timeout: 10_000 }, async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.imageManifest, 'content-length': String(5 * 1024 * 1024) });
      res.end(Buffer.alloc(5 * 1024 * 1024, 32));
    });
    const chunked = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.imageManifest });
      for (let i = 0; i < 5; i++) res.write(Buffer.alloc(1024 * 1024, 32));
      res.end();
    });
    const a = connectRegistry(ref(`${srv.host}/m`), { anonymous: true });
    const b = connectRegistry(ref(`${chunked.host}/m`), { anonymous: true });
    try {
      await assert.rejects(a.fetchManifest('big'), (e: unknown) => (e as AionError).code === 'RG010');
      await assert.rejects(b.fetchManifest('big'), (e: unknown) => (e as AionError).code === 'RG010');
    } finally {
      await a.close();
      await b.close();
      await srv.stop();
      await chunked.stop();
    }
  });

  it('probes the referrers API like oras-go and uses it when present', { timeout: 10_000 }, async () => {
    const referrer = { mediaType: MEDIA_TYPES.imageManifest, digest: sha256('r'), size: 1, artifactType: 'x/y' };
    const srv = await serve((req, res) => {
      if (req.url?.startsWith('/v2/q/referrers/')) {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.imageIndex });
        const zero = req.url.includes('0000000000');
        return void res.end(
          JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests: zero ? [] : [referrer] }),
        );
      }
      res.writeHead(404).end();
    });
    const target = connectRegistry(ref(`${srv.host}/q`), { anonymous: true });
    try {
      assert.equal(await target.hasReferrersApi(), true);
      const subject = blob(Buffer.from('s'));
      assert.deepEqual(await target.referrers(subject), [referrer]);
    } finally {
      await target.close();
      await srv.stop();
    }
  });
});

// keep the hash import used for a sanity check of the test data helper
assert.equal(createHash('sha256').update('{}').digest('hex').length, 64);
