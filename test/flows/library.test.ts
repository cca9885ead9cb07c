/** The library flows in-process, against the in-memory Target (no CLI, no registry): issue 11. */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sourceDateEpoch } from '../../src/lib/env/index.js';
import { AionError } from '../../src/lib/errors/index.js';
import {
  type ArtifactReference,
  cachingReadTarget,
  formatReference,
  parseReference,
  planCopy,
  pullArtifact,
  storeNameFor,
  type Target,
  transfer,
} from '../../src/lib/oci/index.js';
import { generateSpdx } from '../../src/lib/sign/index.js';
import { tempDir } from '../helpers/cli.js';
import { MemoryTarget } from '../helpers/memory-target.js';

const registryRef = (host: string, tag = '1.0'): ArtifactReference => parseReference(`${host}/team/agent:${tag}`);

describe('pullArtifact (in-process, in-memory targets)', () => {
  it('refused by the policy check => nothing stored, the store is never opened', async () => {
    const source = new MemoryTarget('src');
    await source.addArtifact('1.0');
    const opened: string[] = [];
    const refusal = new AionError('ST001', 'no valid signature');
    await assert.rejects(
      pullArtifact(source, registryRef('reg.example'), {
        verify: async () => {
          throw refusal;
        },
        store: (name) => {
          opened.push(name);
          return new MemoryTarget(name);
        },
      }),
      (err) => err === refusal,
    );
    assert.deepEqual(opened, []);
  });

  it('verifies the pinned digest, reads the root manifest once, stores under HOST/REPOSITORY', async () => {
    const source = new MemoryTarget('src');
    const root = await source.addArtifact('1.0');
    const stores = new Map<string, MemoryTarget>();
    const store = (name: string): Target => {
      const s = stores.get(name) ?? new MemoryTarget(name);
      stores.set(name, s);
      return s;
    };
    let seen: ArtifactReference | undefined;
    const result = await pullArtifact(source, registryRef('hosta.example'), {
      // The policy reads the manifest again (as the trust policy and the signature engine do): served from cache.
      verify: async (target, ref) => {
        seen = ref;
        await target.fetchManifest(ref.digest!);
        await target.resolve(ref.digest!);
        return 'ok';
      },
      store,
    });
    assert.equal(seen?.digest, root.digest);
    assert.equal(result.verified, 'ok');
    assert.equal(source.reads.fetchManifest, 1, 'the root manifest is read from the source once');
    assert.equal(formatReference(result.stored), 'store:hosta.example/team/agent:1.0');
    assert.equal(stores.get('hosta.example/team/agent')?.tagMap.get('1.0'), root.digest);

    // the same repository on another registry does not overwrite it (issue 10 item 7)
    const other = new MemoryTarget('other');
    const otherRoot = await other.addArtifact('1.0', { 'aip.yaml': 'name: other\n' });
    await pullArtifact(other, registryRef('hostb.example'), { store });
    assert.equal(stores.get('hosta.example/team/agent')?.tagMap.get('1.0'), root.digest);
    assert.equal(stores.get('hostb.example/team/agent')?.tagMap.get('1.0'), otherRoot.digest);
    assert.ok(!stores.has('evil/overwrite'), 'the package-name annotation never names the store entry');
  });

  it('an oci: layout is stored under its directory name, never under the annotation the artifact sets', async () => {
    const source = new MemoryTarget('layout');
    await source.addArtifact('2.0');
    const names: string[] = [];
    const result = await pullArtifact(source, parseReference('oci:/tmp/My.-Export:2.0'), {
      store: (name) => {
        names.push(name);
        return new MemoryTarget(name);
      },
    });
    assert.deepEqual(names, ['my_export']);
    assert.equal(result.stored.repository, 'my_export');
    assert.equal(storeNameFor(parseReference('oci:./a/export')), 'export');
  });

  it('checks the -o destination before reading anything', async () => {
    const dir = await tempDir('aionctl-flow-');
    try {
      const file = join(dir.path, 'file');
      await writeFile(file, 'x');
      const source = new MemoryTarget('src');
      await source.addArtifact('1.0');
      const before = { ...source.reads };
      await assert.rejects(
        pullArtifact(source, registryRef('reg.example'), { extractTo: file, store: (n) => new MemoryTarget(n) }),
        (err) => err instanceof AionError && err.code === 'FS010' && /-o takes a directory/.test(err.hint ?? ''),
      );
      assert.deepEqual(source.reads, before, 'nothing was read from the source');
      // and a directory works: files are extracted from the store
      const out = join(dir.path, 'out');
      await mkdir(out);
      const ok = await pullArtifact(source, registryRef('reg.example'), {
        extractTo: out,
        store: (n) => new MemoryTarget(n),
      });
      assert.deepEqual(
        ok.files.map((f) => f.path),
        ['aip.yaml'],
      );
      assert.equal(await readFile(join(out, 'aip.yaml'), 'utf8'), 'name: x\n');
    } finally {
      await dir.cleanup();
    }
  });

  it('an aborted signal stops the pull before anything is stored', async () => {
    const source = new MemoryTarget('src');
    await source.addArtifact('1.0');
    const store = new MemoryTarget('store');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      pullArtifact(source, registryRef('reg.example'), { store: () => store, signal: controller.signal }),
      { name: 'AbortError' },
    );
    assert.equal(store.manifests.size, 0);
  });

  it('a reference without a tag or digest is refused before any read', async () => {
    const source = new MemoryTarget('src');
    await assert.rejects(pullArtifact(source, parseReference('reg.example/team/agent')), (err) => {
      return err instanceof AionError && err.code === 'RG020' && err.exitCode === 2;
    });
    assert.equal(source.reads.fetchManifest, 0);
  });
});

describe('planCopy / transfer', () => {
  it('reuses the source tag, mounts on one registry, and closes both ends when the pin check throws', async () => {
    const plan = planCopy(parseReference('r.example/a/b:1.0'), parseReference('r.example/c/d'));
    assert.equal(plan.tag, '1.0');
    assert.deepEqual(plan.mountFrom, ['a/b']);
    assert.equal(planCopy(parseReference('a:1'), parseReference('oci:/x')).mountFrom, undefined);

    const src = new MemoryTarget('src');
    await src.addArtifact('1.0');
    const dst = new MemoryTarget('dst');
    const pinned = planCopy(parseReference('a:1.0'), parseReference(`oci:/x@sha256:${'0'.repeat(64)}`));
    await assert.rejects(
      transfer(pinned, { open: async (_ref, role) => (role === 'source' ? src : dst) }),
      (err) => err instanceof AionError && err.code === 'CI001',
    );
    assert.equal(src.closed, 1);
    assert.equal(dst.closed, 1);
    assert.equal(dst.manifests.size, 0);

    // the source is closed when opening the destination throws
    const src2 = new MemoryTarget('src2');
    await assert.rejects(
      transfer(planCopy(parseReference('a:1.0'), parseReference('oci:/y')), {
        open: async (_ref, role) => {
          if (role === 'destination') throw new AionError('RG006', 'no credentials');
          return src2;
        },
      }),
    );
    assert.equal(src2.closed, 1);
  });
});

describe('one caching read per operation', () => {
  it('cachingReadTarget serves repeated resolve/fetchManifest from memory', async () => {
    const source = new MemoryTarget('src');
    const root = await source.addArtifact('1.0');
    const cached = cachingReadTarget(source);
    await cached.fetchManifest('1.0');
    await cached.fetchManifest(root);
    await cached.resolve('1.0');
    assert.equal(source.reads.fetchManifest, 1);
    assert.equal(source.reads.resolve, 1, 'the tag was resolved once, inside the first fetch');
  });
});

describe('one SOURCE_DATE_EPOCH parser', () => {
  it('unset is undefined, whole seconds are a date, anything else is a usage error', () => {
    assert.equal(sourceDateEpoch({}), undefined);
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }), undefined);
    assert.equal(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' })?.toISOString(), '2023-11-14T22:13:20.000Z');
    assert.throws(
      () => sourceDateEpoch({ SOURCE_DATE_EPOCH: 'soon' }),
      (err) => err instanceof AionError && err.code === 'CI001',
    );
  });

  it('the generated SBOM uses SOURCE_DATE_EPOCH, and the current time (not 1970) without it', async () => {
    const target = new MemoryTarget('src');
    await target.addArtifact('1.0');
    const created = async (env: Record<string, string>) =>
      (JSON.parse((await generateSpdx(target, '1.0', env)).toString('utf8')) as { creationInfo: { created: string } })
        .creationInfo.created;
    assert.equal(await created({ SOURCE_DATE_EPOCH: '1700000000' }), '2023-11-14T22:13:20Z');
    const now = await created({});
    assert.ok(!now.startsWith('1970'), now);
    assert.ok(Math.abs(Date.parse(now) - Date.now()) < 60_000, now);
  });
});

describe('store references keep the registry host', () => {
  it('store:HOST/REPO:TAG round-trips; plain names stay plain', () => {
    for (const text of ['store:127.0.0.1:5000/team/agent:1.0', 'store:ghcr.io/acme/agent@sha256:' + 'a'.repeat(64)]) {
      const ref = parseReference(text);
      assert.equal(ref.kind, 'store');
      assert.equal(formatReference(ref), text);
    }
    assert.equal(formatReference(parseReference('store:team/agent:1.0')), 'team/agent:1.0');
    assert.equal(parseReference('127.0.0.1:5000/team/agent:1.0').kind, 'registry');
  });
});
