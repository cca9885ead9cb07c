import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { descriptorFor, EMPTY_DESCRIPTOR, LayoutTarget, MEDIA_TYPES } from '../../src/lib/oci/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { writePackage } from '../oci-local/fixtures.js';

const PASSWORD = 'correct horse';
let root: { path: string; cleanup: () => Promise<void> };
const env = () => ({ AIONCTL_HOME: join(root.path, 'home'), COSIGN_PASSWORD: PASSWORD });
const cli = (args: string[]): Promise<CliResult> => runCli(args, { cwd: root.path, env: env() });
const DIGEST = /sha256:[0-9a-f]{64}/;

interface ImagesJson {
  store: string;
  images: { name: string; tag: string; digest: string; size: number; signatures: number; artifactType: string }[];
}

before(async () => {
  root = await tempDir('aionctl-storecli-');
  const key = await cli(['key', 'generate', '--output-prefix', join(root.path, 'k')]);
  assert.equal(key.code, 0, key.stderr);
});
after(async () => root.cleanup());

describe('the local store: images, rm, moved tags', { timeout: 400_000 }, () => {
  it('pack says when it moves a store tag (stderr line and --json field), and not when the digest is the same', async () => {
    const dir = await writePackage(join(root.path, 'mover'), { name: 'mover', version: '1.0.0' });
    const first = await cli(['pack', dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const a = parseJson<{ digest: string; moved: unknown }>(first);
    assert.equal(a.moved, null);
    const same = await cli(['pack', dir]);
    assert.equal(same.code, 0, same.stderr);
    assert.doesNotMatch(same.stderr, /moved/);
    await writeFile(join(dir, 'README.md'), 'changed\n');
    const second = await cli(['pack', dir]);
    assert.equal(second.code, 0, second.stderr);
    const b = second.stdout.trim();
    assert.notEqual(b, a.digest);
    assert.ok(second.stderr.includes(`moved mover:1.0.0 from ${a.digest} to ${b}`), second.stderr);
    await writeFile(join(dir, 'README.md'), 'changed again\n');
    const third = parseJson<{ digest: string; moved: { from: string; to: string } }>(
      await cli(['pack', dir, '--json']),
    );
    assert.deepEqual(third.moved, { from: b, to: third.digest });
  });

  it('the layout records each tag it moves (pushManifest and tag), not a re-tag of the same digest', async () => {
    const layout = new LayoutTarget(join(root.path, 'moves-layout'));
    const push = async (n: number) => {
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          config: EMPTY_DESCRIPTOR,
          layers: [],
          annotations: { n: String(n) },
        }),
      );
      const d = descriptorFor(MEDIA_TYPES.imageManifest, bytes);
      await layout.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
      await layout.pushManifest(d, bytes, 'v1');
      return d;
    };
    const a = await push(1);
    await push(1);
    assert.equal(layout.moves.length, 0);
    const b = await push(2);
    assert.deepEqual(
      layout.moves.map((m) => [m.tag, m.from.digest, m.to.digest]),
      [['v1', a.digest, b.digest]],
    );
    await layout.tag(a, 'v1');
    assert.deepEqual(layout.moves.at(-1)?.to.digest, a.digest);
  });

  it('pull says when it moves a store tag', async () => {
    const dir = await writePackage(join(root.path, 'pulled'), { name: 'pulled', version: '2.0.0' });
    const layout = join(root.path, 'layout');
    assert.equal((await cli(['pack', dir, '--output', `oci:${layout}:2.0.0`])).code, 0);
    const p1 = await cli(['pull', `oci:${layout}:2.0.0`, '--name', 'pulled', '--insecure-skip-verify', '--json']);
    assert.equal(p1.code, 0, p1.stderr);
    const first = parseJson<{ digest: string; moved: unknown }>(p1);
    assert.equal(first.moved, null);
    await writeFile(join(dir, 'extra.txt'), 'new file\n');
    assert.equal((await cli(['pack', dir, '--output', `oci:${layout}:2.0.0`])).code, 0);
    const newDigest = (await new LayoutTarget(layout).resolve('2.0.0')).digest;
    const p2 = await cli(['pull', `oci:${layout}:2.0.0`, '--name', 'pulled', '--insecure-skip-verify']);
    assert.equal(p2.code, 0, p2.stderr);
    assert.ok(p2.stderr.includes(`moved pulled:2.0.0 from ${first.digest} to ${newDigest}`), p2.stderr);
  });

  it('images lists name, tag, digest, size and signature count; signature tags are hidden', async () => {
    const dir = await writePackage(join(root.path, 'listed'), { name: 'listed', version: '3.0.0' });
    const packed = await cli(['pack', dir]);
    const digest = packed.stdout.trim();
    const key = join(root.path, 'k.key');
    assert.equal((await cli(['sign', 'listed:3.0.0', '--key', key])).code, 0);
    const signed = await cli(['sign', 'listed:3.0.0', '--key', key, '--format', 'bundle']);
    assert.equal(signed.code, 0, signed.stderr);
    const json = parseJson<ImagesJson>(await cli(['images', '--json']));
    assert.ok(json.store.endsWith(join('data', 'store')));
    const row = json.images.find((i) => i.name === 'listed');
    assert.ok(row, JSON.stringify(json.images));
    assert.equal(row.tag, '3.0.0');
    assert.equal(row.digest, digest);
    assert.equal(row.signatures, 2, 'one cosign .sig layer + one bundle referrer');
    assert.equal(row.artifactType, 'application/vnd.aionos.agent.v1');
    assert.ok(row.size > 8, 'size covers manifest, config and layers');
    assert.ok(
      json.images.every((i) => !i.tag.startsWith('sha256-')),
      'no .sig tags listed',
    );
    const human = await cli(['images']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^NAME +TAG +DIGEST +SIZE +SIGNATURES$/m);
    assert.match(human.stdout, new RegExp(`^listed +3\\.0\\.0 +${digest} +[\\d.]+ k?B +2$`, 'm'));
  });

  it('rm removes a store tag and says what it removed; unknown tags fail; a bare name is a usage error', async () => {
    const dir = await writePackage(join(root.path, 'doomed'), { name: 'doomed', version: '1.0.0' });
    const digest = (await cli(['pack', dir])).stdout.trim();
    assert.equal((await cli(['pack', dir, '--tag', '1.0.0-copy'])).code, 0);
    const r = await cli(['rm', 'doomed:1.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `removed doomed:1.0.0 (was ${digest})`);
    const tags = parseJson<ImagesJson>(await cli(['images', '--json'])).images.filter((i) => i.name === 'doomed');
    assert.deepEqual(
      tags.map((t) => t.tag),
      ['1.0.0-copy'],
    );
    const again = await cli(['rm', 'doomed:1.0.0', '--json']);
    assert.notEqual(again.code, 0);
    assert.equal(parseJson<{ error: { code: string; hint: string } }>(again).error.code, 'RG003');
    assert.match(parseJson<{ error: { hint: string } }>(again).error.hint, /1\.0\.0-copy/);
    const bare = await cli(['rm', 'doomed', '--json']);
    assert.equal(bare.code, 2);
    assert.equal(parseJson<{ error: { code: string } }>(bare).error.code, 'CI001');
    const byDigest = parseJson<{ removed: { name: string; tag: string; digest: string }[] }>(
      await cli(['rm', `doomed@${digest}`, '--json']),
    );
    assert.deepEqual(byDigest.removed, [{ name: 'doomed', tag: '1.0.0-copy', digest }]);
    assert.match(digest, DIGEST);
    const remote = await cli(['rm', 'localhost:5000/x/y:1', '--json']);
    assert.equal(remote.code, 2, 'rm never touches a registry');
  });
});
