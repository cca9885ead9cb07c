import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DiscoverResult, InspectResult, ReferrerNode } from '../../src/lib/oci/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writePackage } from '../oci-local/fixtures.js';

const PASSWORD = 'correct horse';
const BUNDLE = /^application\/vnd\.dev\.sigstore\.bundle/;
let root: { path: string; cleanup: () => Promise<void> };
let registry: TestRegistry;
const cli = (args: string[]): Promise<CliResult> =>
  runCli(args, { cwd: root.path, env: { AIONCTL_HOME: join(root.path, 'home'), COSIGN_PASSWORD: PASSWORD } });

async function ok(args: string[]): Promise<CliResult> {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Signs REF (cosign .sig + bundle referrer) and attaches a generated SPDX SBOM. */
async function decorate(ref: string): Promise<void> {
  await ok(['sign', ref, '--key', join(root.path, 'k.key'), '--bundle']);
  await ok(['sbom', 'attach', ref, '--generate']);
}

function assertInspected(r: InspectResult, digest: string): void {
  assert.equal(r.digest, digest);
  assert.equal(r.artifactType, 'application/vnd.aionos.agent.v1');
  assert.deepEqual(
    r.files.map((f) => [f.path, f.mode]),
    [
      ['aip.yaml', '0644'],
      ['bin/helper.sh', '0755'],
      ['module.wasm', '0644'],
      ['schemas/input.json', '0644'],
      ['schemas/output.json', '0644'],
    ],
  );
  assert.equal(r.files.find((f) => f.path === 'module.wasm')?.size, 8);
  assert.equal(r.annotations['dev.aionos.package.name'], 'inspected');
  assert.deepEqual(r.signatures.map((s) => s.kind).sort(), ['bundle', 'cosign']);
  assert.equal(r.sboms.length, 1);
  assert.equal(r.sboms[0]?.mediaType, 'application/spdx+json');
  assert.equal(r.referrers.length, 2, 'the bundle and the SBOM');
  assert.ok(r.size > r.files.reduce((s, f) => s + f.size, 0));
}

function assertTree(t: DiscoverResult, digest: string): void {
  assert.equal(t.digest, digest);
  const types = t.referrers.map((n) => n.artifactType ?? '');
  assert.ok(
    types.some((x) => BUNDLE.test(x)),
    types.join(),
  );
  assert.ok(types.includes('application/spdx+json'), types.join());
  const sig = t.referrers.find((n) => n.tag !== undefined) as ReferrerNode;
  assert.equal(sig.tag, `${digest.replace(':', '-')}.sig`);
}

before(async () => {
  root = await tempDir('aionctl-inspect-');
  registry = await startRegistry();
  await ok(['key', 'generate', '--output-prefix', join(root.path, 'k')]);
});
after(async () => {
  await registry.stop();
  await root.cleanup();
});

describe('inspect and discover', { timeout: 400_000 }, () => {
  it('on a registry: files, annotations, signatures, SBOMs and referrers; the referrers tree', async () => {
    const dir = await writePackage(join(root.path, 'reg-pkg'), { name: 'inspected', version: '1.0.0' });
    const ref = `${registry.host}/team/inspected:1.0.0`;
    const pushed = await ok(['push', dir, ref, '--json']);
    const digest = parseJson<{ digest: string }>(pushed).digest;
    await decorate(ref);
    assertInspected(parseJson<InspectResult>(await ok(['inspect', ref, '--json'])), digest);
    const tree = parseJson<DiscoverResult>(await ok(['discover', ref, '--json']));
    assertTree(tree, digest);
    // a signature of the SBOM shows up one level down
    const sbom = tree.referrers.find((n) => n.artifactType === 'application/spdx+json') as ReferrerNode;
    await ok([
      'sign',
      `${registry.host}/team/inspected@${sbom.digest}`,
      '--key',
      join(root.path, 'k.key'),
      '--format',
      'bundle',
    ]);
    const deeper = parseJson<DiscoverResult>(await ok(['discover', ref, '--json']));
    const sbomNode = deeper.referrers.find((n) => n.digest === sbom.digest) as ReferrerNode;
    assert.equal(sbomNode.referrers.length, 1);
    assert.match(sbomNode.referrers[0]?.artifactType ?? '', BUNDLE);
    const shallow = parseJson<DiscoverResult>(await ok(['discover', ref, '--json', '--depth', '1']));
    assert.ok(shallow.referrers.every((n) => n.referrers.length === 0));
    const onlySboms = parseJson<DiscoverResult>(
      await ok(['discover', ref, '--json', '--artifact-type', 'application/spdx+json']),
    );
    assert.deepEqual(
      onlySboms.referrers.map((n) => n.artifactType),
      ['application/spdx+json'],
    );
    const human = await ok(['discover', ref]);
    const lines = human.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `${registry.host}/team/inspected@${digest}`);
    assert.ok(
      lines.some((l) => /^[├└]── application\/spdx\+json$/.test(l)),
      human.stdout,
    );
    assert.ok(
      lines.some((l) => /^[│ ] {3}[├└]── sha256:[0-9a-f]{64}$/.test(l)),
      human.stdout,
    );
    assert.ok(
      lines.some((l) => l.includes(`(tag ${digest.replace(':', '-')}.sig)`)),
      human.stdout,
    );
    const text = await ok(['inspect', ref]);
    assert.match(text.stdout, /^ {2}0755 +\d+ {2}bin\/helper\.sh$/m);
    assert.match(text.stdout, /^Signatures \(2, not verified here\):$/m);
    assert.match(text.stdout, /^ {2}dev\.aionos\.package\.name: inspected$/m);
  });

  it('on the local store and on an oci: layout', async () => {
    const dir = await writePackage(join(root.path, 'store-pkg'), { name: 'inspected', version: '2.0.0' });
    const digest = (await ok(['pack', dir])).stdout.trim();
    await decorate('inspected:2.0.0');
    assertInspected(parseJson<InspectResult>(await ok(['inspect', 'inspected:2.0.0', '--json'])), digest);
    assertTree(parseJson<DiscoverResult>(await ok(['discover', `inspected@${digest}`, '--json'])), digest);

    const layout = `oci:${join(root.path, 'layout')}`;
    await ok(['pack', dir, '--output', `${layout}:2.0.0`]);
    await decorate(`${layout}:2.0.0`);
    assertInspected(parseJson<InspectResult>(await ok(['inspect', `${layout}:2.0.0`, '--json'])), digest);
    const tree = parseJson<DiscoverResult>(await ok(['discover', `${layout}:2.0.0`, '--json', '--referrers-only']));
    assert.ok(
      tree.referrers.every((n) => n.tag === undefined),
      '--referrers-only leaves out the .sig tag',
    );
    assert.equal(tree.referrers.length, 2);
  });

  it('fails clearly on what is not there', async () => {
    const missing = await cli(['inspect', `${registry.host}/team/inspected:9.9.9`, '--json']);
    assert.notEqual(missing.code, 0);
    assert.equal(parseJson<{ error: { code: string } }>(missing).error.code, 'RG003');
    const noTag = await cli(['discover', 'inspected', '--json']);
    assert.notEqual(noTag.code, 0);
    assert.equal(parseJson<{ error: { code: string } }>(noTag).error.code, 'RG020');
  });
});
