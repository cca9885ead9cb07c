import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AionError } from '../../src/lib/errors/index.js';
import {
  ANNOTATIONS,
  buildPackage,
  copyArtifact,
  descriptorFor,
  extractPackage,
  LayoutTarget,
  MEDIA_TYPES,
  pack,
  PACKAGE_MEDIA_TYPES,
  safeTitleSegments,
  sha256,
} from '../../src/lib/oci/index.js';
import { tempDir } from '../helpers/cli.js';
import { WASM_BYTES, writePackage } from './fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
async function scratch(): Promise<string> {
  const dir = await tempDir('aionctl-pack-');
  cleanups.push(dir.cleanup);
  return dir.path;
}
function expectCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof AionError, `expected AionError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('pack', () => {
  it('builds the documented artifact: artifactType, canonical JSON config, wasm + titled layers, modes', async () => {
    const dir = await writePackage(join(await scratch(), 'pkg'));
    const artifact = await buildPackage(dir);
    const m = artifact.manifest;
    assert.equal(m.artifactType, MEDIA_TYPES.agentArtifact);
    assert.equal(m.config.mediaType, MEDIA_TYPES.agentConfig);
    const config = JSON.parse(Buffer.from(artifact.configBytes).toString());
    assert.equal(config.metadata.name, 'summarize_text');
    // canonical: keys sorted, no whitespace
    assert.ok(Buffer.from(artifact.configBytes).toString().startsWith('{"apiVersion":"aionos/v1","entrypoints":'));
    const byTitle = Object.fromEntries(m.layers.map((l) => [l.annotations?.[ANNOTATIONS.title], l]));
    assert.deepEqual(Object.keys(byTitle), [
      'aip.yaml',
      'bin/helper.sh',
      'module.wasm',
      'schemas/input.json',
      'schemas/output.json',
    ]);
    assert.equal(byTitle['module.wasm']?.mediaType, MEDIA_TYPES.wasmLayer);
    assert.equal(byTitle['module.wasm']?.digest, sha256(WASM_BYTES));
    assert.equal(byTitle['aip.yaml']?.mediaType, PACKAGE_MEDIA_TYPES.manifestYaml);
    assert.equal(byTitle['schemas/input.json']?.mediaType, PACKAGE_MEDIA_TYPES.file);
    assert.equal(byTitle['bin/helper.sh']?.annotations?.[ANNOTATIONS.fileMode], '0755');
    assert.equal(byTitle['schemas/input.json']?.annotations?.[ANNOTATIONS.fileMode], '0644');
    assert.equal(m.annotations?.[ANNOTATIONS.version], '1.3.0');
    assert.equal(m.annotations?.[ANNOTATIONS.packageName], 'summarize_text');
    assert.equal(m.annotations?.[ANNOTATIONS.created], undefined, 'no timestamp unless asked');
    assert.equal(artifact.descriptor.digest, sha256(artifact.manifestBytes));
  });

  it('is reproducible: the same package in two directories with other mtimes and modes packs identically', async () => {
    const a = await writePackage(join(await scratch(), 'one'));
    const b = await writePackage(join(await scratch(), 'two', 'nested'), {
      modes: { 'schemas/input.json': 0o600, 'bin/helper.sh': 0o700 },
    });
    await utimes(join(b, 'module.wasm'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const first = await buildPackage(a);
    const second = await buildPackage(b);
    assert.equal(first.descriptor.digest, second.descriptor.digest);
    assert.deepEqual(Buffer.from(first.manifestBytes), Buffer.from(second.manifestBytes));

    const stamped = await buildPackage(a, { created: new Date(1700000000 * 1000) });
    assert.equal(stamped.manifest.annotations?.[ANNOTATIONS.created], '2023-11-14T22:13:20Z');
    assert.notEqual(stamped.descriptor.digest, first.descriptor.digest);
    const changed = await writePackage(join(await scratch(), 'three'), { files: { 'schemas/output.json': '{}' } });
    assert.notEqual((await buildPackage(changed)).descriptor.digest, first.descriptor.digest);
  });

  it('refuses an invalid package and writes nothing to the destination', async () => {
    const root = await scratch();
    const layout = new LayoutTarget(join(root, 'layout'));
    const cases: [string, Parameters<typeof writePackage>[1]][] = [
      ['bad version', { version: 'one.two' }],
      [
        'bad kind',
        {
          aipYaml:
            'apiVersion: aionos/v1\nkind: Nope\nmetadata: {name: x, version: 1.0.0}\nruntime: {type: subprocess, command: [x]}\n',
        },
      ],
      ['bad yaml', { aipYaml: 'apiVersion: [unclosed\n' }],
      ['duplicate keys', { aipYaml: 'apiVersion: aionos/v1\napiVersion: aionos/v1\n' }],
      [
        'module missing',
        {
          aipYaml:
            'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: x, version: 1.0.0}\nruntime: {type: wasm, module: gone.wasm}\n',
        },
      ],
    ];
    // The manifests library decides: each case gets the code `aionctl validate` reports for it.
    const expected: Record<string, string> = {
      'bad version': 'SC007',
      'bad kind': 'SC006',
      'bad yaml': 'SC001',
      'duplicate keys': 'SC002',
      'module missing': 'SC014',
    };
    for (const [label, spec] of cases) {
      const dir = await writePackage(join(root, label.replaceAll(' ', '-')), spec);
      await assert.rejects(
        pack(dir, () => layout),
        expectCode(expected[label]!),
        label,
      );
    }
    await assert.rejects(
      pack(join(root, 'nothing-here'), () => layout),
      expectCode('SC018'),
    );
    await assert.rejects(stat(layout.root), 'nothing was created');
  });

  it('refuses symlinks escaping the package, packs those pointing inside as regular files', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'));
    await writeFile(join(root, 'secret'), 'do not pack me');
    await symlink(join(root, 'secret'), join(dir, 'leak'));
    await assert.rejects(buildPackage(dir), expectCode('FS007'));

    const ok = await writePackage(join(root, 'pkg2'));
    await symlink('schemas/input.json', join(ok, 'alias.json'));
    await writeFile(join(ok, '.hidden'), 'not packed');
    const artifact = await buildPackage(ok);
    const alias = artifact.manifest.layers.find((l) => l.annotations?.[ANNOTATIONS.title] === 'alias.json');
    const input = artifact.manifest.layers.find((l) => l.annotations?.[ANNOTATIONS.title] === 'schemas/input.json');
    assert.equal(alias?.digest, input?.digest);
    assert.ok(!artifact.manifest.layers.some((l) => l.annotations?.[ANNOTATIONS.title] === '.hidden'));
  });
});

describe('extract', () => {
  it('packs, copies between layouts and extracts the original files with their modes', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'));
    const src = new LayoutTarget(join(root, 'a'));
    const { descriptor, tag } = await pack(dir, () => src);
    assert.equal(tag, '1.3.0');
    const dst = new LayoutTarget(join(root, 'b'));
    const events: string[] = [];
    const copied = await copyArtifact(src, '1.3.0', dst, 'copied', { onProgress: (e) => events.push(e.kind) });
    assert.equal(copied.descriptor.digest, descriptor.digest);
    assert.equal(copied.blobsCopied, 6, 'config + 5 layers');
    assert.ok(events.includes('blob-done') && events.includes('manifest'));
    const again = await copyArtifact(src, '1.3.0', dst, 'copied');
    assert.equal(again.blobsCopied, 0);
    assert.equal(again.blobsSkipped, 6);

    const out = join(root, 'out');
    const result = await extractPackage(dst, 'copied', out);
    assert.equal(result.files.length, 5);
    for (const file of ['aip.yaml', 'module.wasm', 'schemas/input.json', 'bin/helper.sh']) {
      assert.deepEqual(await readFile(join(out, file)), await readFile(join(dir, file)), file);
    }
    assert.equal((await stat(join(out, 'bin/helper.sh'))).mode & 0o777, 0o755);
    assert.equal((await stat(join(out, 'schemas/input.json'))).mode & 0o777, 0o644);
  });

  it('refuses hostile titles before writing anything', async () => {
    for (const title of ['../evil', '/etc/passwd', 'a/../../b', 'a\\..\\b', 'C:/x', '', 'a//b', './a', 'x\u0000y']) {
      assert.throws(() => safeTitleSegments(title), expectCode('FS007'), JSON.stringify(title));
    }
    assert.deepEqual(safeTitleSegments('schemas/in.json'), ['schemas', 'in.json']);

    const root = await scratch();
    const layout = new LayoutTarget(join(root, 'layout'));
    const good = Buffer.from('fine');
    const evil = Buffer.from('evil');
    const config = Buffer.from('{}');
    await layout.pushBlob(descriptorFor('x', good), good);
    await layout.pushBlob(descriptorFor('x', evil), evil);
    await layout.pushBlob(descriptorFor(MEDIA_TYPES.empty, config), config);
    const push = async (tag: string, titles: string[]) => {
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          config: descriptorFor(MEDIA_TYPES.empty, config),
          layers: titles.map((t, i) => ({
            ...descriptorFor('x', i === 0 ? good : evil),
            annotations: { [ANNOTATIONS.title]: t },
          })),
        }),
      );
      await layout.pushManifest(descriptorFor(MEDIA_TYPES.imageManifest, bytes), bytes, tag);
    };
    await push('traversal', ['ok.txt', '../escaped.txt']);
    await push('absolute', ['ok.txt', join(root, 'abs.txt')]);
    await push('through-link', ['ok.txt', 'link/inside.txt']);
    const out = join(root, 'out');
    await assert.rejects(extractPackage(layout, 'traversal', out), expectCode('FS007'));
    await assert.rejects(extractPackage(layout, 'absolute', out), expectCode('FS007'));
    await mkdir(out, { recursive: true });
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(out, 'link'));
    await assert.rejects(extractPackage(layout, 'through-link', out), expectCode('FS007'));
    assert.deepEqual((await readdir(out)).sort(), ['link'], 'ok.txt was not written either');
    assert.deepEqual(await readdir(join(root, 'elsewhere')), []);
    await assert.rejects(stat(join(root, 'escaped.txt')));
  });

  it('a corrupt blob fails extraction and leaves the output directory untouched', async () => {
    const root = await scratch();
    const dir = await writePackage(join(root, 'pkg'));
    const layout = new LayoutTarget(join(root, 'layout'));
    const { artifact } = await pack(dir, () => layout);
    const wasm = artifact.manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.wasmLayer)!;
    await writeFile(layout.blobPath(wasm.digest), Buffer.from('\0asm\x01\0\0X'));
    const out = join(root, 'out');
    await assert.rejects(extractPackage(layout, '1.3.0', out), expectCode('RG009'));
    // The output directory it created is removed again; a pre-existing one keeps only what it had.
    await assert.rejects(readdir(out), /ENOENT/);
    await mkdir(out);
    await assert.rejects(extractPackage(layout, '1.3.0', out), expectCode('RG009'));
    const left = await readdir(out, { recursive: true });
    assert.ok(
      left.every((p) => !p.endsWith('.json') && !p.endsWith('.wasm') && !p.endsWith('.yaml') && !p.endsWith('.sh')),
      `no file was renamed into place: ${left.join(', ')}`,
    );
    assert.ok(!left.some((p) => p.endsWith('.tmp')), 'temp files removed');
  });
});
