import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveRunnable } from '../../src/lib/run/index.js';
import { tempDir } from '../helpers/cli.js';
import { folderDestination, makeKeys, seedUniverse, writeAip, writeProject } from '../helpers/packages.js';
import { context } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('aionctl-run-cache-'));
});
after(() => cleanup());

describe('run: packages extracted under the cache', { timeout: 120_000 }, () => {
  it('are re-used only while their files match the digest recorded at extraction', async () => {
    const keys = await makeKeys(join(root, 'keys'));
    const folder = join(root, 'folder');
    const digests = await seedUniverse(
      join(root, 'work'),
      keys,
      [folderDestination(folder)],
      [{ name: 'cached_echo', version: '1.0.0' }],
    );
    const project = await writeProject(join(root, 'project'), {
      registry: `oci:${folder}`,
      trustMatch: [`oci:${folder}/*`],
      trustedPub: keys.trustedPub,
    });
    const ctx = context(project);
    const spec = `oci:${join(folder, 'cached_echo')}:1.0.0`;
    const first = await resolveRunnable(spec, ctx);
    const dir = join(ctx.paths.cache, 'run', 'packages', digests.get('cached_echo@1.0.0')!.slice('sha256:'.length));
    assert.equal(first.dir, dir);
    assert.equal(await readFile(`${dir}.content`, 'utf8'), first.contentDigest);
    const module = await readFile(join(dir, 'module.wasm'));

    // A changed file in the cache is not run: the package is extracted again from the verified artifact.
    await appendFile(join(dir, 'module.wasm'), 'tampered');
    const again = await resolveRunnable(spec, ctx);
    assert.equal(again.contentDigest, first.contentDigest);
    assert.deepEqual(await readFile(join(dir, 'module.wasm')), module);

    // A package without its record (or a malformed one) is extracted again too, and recorded.
    await rm(`${dir}.content`);
    assert.equal((await resolveRunnable(spec, ctx)).contentDigest, first.contentDigest);
    assert.ok(existsSync(`${dir}.content`));
    assert.equal(await readFile(`${dir}.content`, 'utf8'), first.contentDigest);
  });

  it('a validated manifest kept in the cache is used only when bounded and shaped like one', async () => {
    const pkg = await writeAip(join(root, 'dirpkg'), { name: 'kept_manifest', version: '2.0.0' });
    const ctx = context(root);
    const first = await resolveRunnable(pkg, ctx);
    const validated = join(ctx.paths.cache, 'run', 'validated');
    const [file] = (await readdir(validated)).filter((f) => f.startsWith(first.contentDigest.slice(7)));
    assert.ok(file);
    for (const bad of ['{"metadata":{}}', 'null', `{"pad":"${'x'.repeat(1024 * 1024)}"}`]) {
      await writeFile(join(validated, file), bad);
      const again = await resolveRunnable(pkg, ctx);
      assert.equal(again.manifest.metadata.name, 'kept_manifest');
      assert.equal(again.manifest.runtime.type, 'wasm');
      assert.equal(JSON.parse(await readFile(join(validated, file), 'utf8')).metadata.version, '2.0.0');
    }
  });
});
