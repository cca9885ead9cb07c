import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolvePaths } from '../../src/lib/config/index.js';
import { LayoutTarget, listStore } from '../../src/lib/oci/index.js';
import { parseReference } from '../../src/lib/oci/reference.js';
import { openTarget } from '../../src/lib/oci/targets.js';
import type { Target } from '../../src/lib/oci/types.js';
import type { AionError } from '../../src/lib/errors/index.js';
import { cacheKey, findTrustRule, openVerifiedCache, verifyAgainstPolicy } from '../../src/lib/sign/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { type TestRegistry, startRegistry } from '../helpers/registry.js';
import { PASSWORD, pushArtifact } from './fixtures.js';

let registry: TestRegistry;
let home: { path: string; cleanup: () => Promise<void> };
let project: string;
const cli = (args: string[], cwd = project): Promise<CliResult> =>
  runCli(args, { cwd, env: { AIONCTL_HOME: home.path, COSIGN_PASSWORD: PASSWORD, AIONCTL_REGISTRY_RETRIES: '0' } });
const errorCode = (r: CliResult) => parseJson<{ error: { code: string } }>(r).error.code;
const open = (repo: string): Promise<Target> => openTarget(parseReference(`${registry.host}/${repo}`));
const ref = (repo: string) => `${registry.host}/${repo}`;

before(async () => {
  registry = await startRegistry();
  home = await tempDir('aionctl-policy-');
  project = join(home.path, 'project');
  for (const k of ['k1', 'k2']) {
    const r = await cli(['key', 'generate', '--output-prefix', join(home.path, k)], home.path);
    assert.equal(r.code, 0, r.stderr);
  }
  const { mkdir } = await import('node:fs/promises');
  await mkdir(project);
  await writeFile(
    join(project, '.aionctl.yaml'),
    [
      'trust:',
      `  - match: "${registry.host}/team/sbom/*"`,
      '    keys: [../k1.pub]',
      '    requireSbom: true',
      `  - match: "${registry.host}/team/*"`,
      '    keys: [../k1.pub]',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

describe('trust policy: pull verifies by default', { timeout: 240_000 }, () => {
  it('pulls a package signed by a trusted key, refuses unsigned / wrongly signed / unmatched ones', async () => {
    const a = await pushArtifact(await open('team/a'), '1.0.0');
    const b = await pushArtifact(await open('team/b'), '1.0.0');
    await pushArtifact(await open('team/c'), '1.0.0');
    await pushArtifact(await open('other/x'), '1.0.0');
    assert.equal((await cli(['sign', ref('team/a:1.0.0'), '--key', join(home.path, 'k1.key')])).code, 0);
    assert.equal((await cli(['sign', ref('team/c:1.0.0'), '--key', join(home.path, 'k2.key')])).code, 0);

    const ok = await cli(['pull', ref('team/a:1.0.0'), '--json', '-q']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const pulled = parseJson<{ digest: string; verified: { rule: { match: string }; cached: boolean } }>(ok);
    assert.equal(pulled.digest, a.digest);
    assert.equal(pulled.verified.rule.match, `${registry.host}/team/*`);

    const unsigned = await cli(['pull', ref('team/b:1.0.0'), '--json', '-q']);
    assert.equal(unsigned.code, 6, unsigned.stdout);
    assert.equal(errorCode(unsigned), 'ST001');
    const wrongKey = await cli(['pull', ref('team/c:1.0.0'), '--json', '-q']);
    assert.equal(errorCode(wrongKey), 'ST002');
    const unmatched = await cli(['pull', ref('other/x:1.0.0'), '--json', '-q']);
    assert.equal(errorCode(unmatched), 'ST009');

    // Nothing refused entered the store; the refused ones are quarantined with their reason.
    const stored = (await listStore({ AIONCTL_HOME: home.path })).map((e) => e.repository);
    // store names keep the registry host (issue 10 item 7)
    assert.ok(stored.includes(ref('team/a')));
    assert.ok(!stored.includes(ref('team/b')) && !stored.includes(ref('team/c')));
    const ls = parseJson<Array<{ digest: string; code: string; ref: string }>>(
      await cli(['quarantine', 'ls', '--json']),
    );
    assert.deepEqual(
      ls.filter((r) => r.digest === b.digest).map((r) => r.code),
      ['ST001'],
    );
    assert.ok(ls.some((r) => r.code === 'ST002'));

    // The only way around: --insecure-skip-verify, with a warning.
    const skipped = await cli(['pull', ref('team/b:1.0.0'), '--insecure-skip-verify', '-q']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /warning: signature verification is OFF/);

    const rm = await cli(['quarantine', 'rm', b.digest.slice(7, 19), '--json']);
    assert.equal(rm.code, 0, rm.stdout);
    const after = parseJson<Array<{ digest: string }>>(await cli(['quarantine', 'ls', '--json']));
    assert.ok(!after.some((r) => r.digest === b.digest));
  });

  it('requireSbom: refuses a signed package without an SBOM; sbom attach / get', async () => {
    await pushArtifact(await open('team/sbom/app'), '1.0.0');
    assert.equal((await cli(['sign', ref('team/sbom/app:1.0.0'), '--key', join(home.path, 'k1.key')])).code, 0);
    const noSbom = await cli(['pull', ref('team/sbom/app:1.0.0'), '--json', '-q']);
    assert.equal(errorCode(noSbom), 'ST012');
    const missing = await cli(['sbom', 'get', ref('team/sbom/app:1.0.0'), '--json']);
    assert.equal(errorCode(missing), 'RG032'); // nothing attached: a lookup, not a security failure (exit 4)
    assert.equal(missing.code, 4);

    const bad = join(home.path, 'not-sbom.json');
    await writeFile(bad, '{"hello":1}');
    assert.equal(errorCode(await cli(['sbom', 'attach', ref('team/sbom/app:1.0.0'), bad, '--json'])), 'ST014');
    const spdx = join(home.path, 'sbom.spdx.json');
    const doc = { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', packages: [] };
    await writeFile(spdx, JSON.stringify(doc));
    const attached = await cli(['sbom', 'attach', ref('team/sbom/app:1.0.0'), spdx, '--json']);
    assert.equal(attached.code, 0, attached.stdout + attached.stderr);
    assert.equal(parseJson<{ mediaType: string }>(attached).mediaType, 'application/spdx+json');
    const got = await cli(['sbom', 'get', ref('team/sbom/app:1.0.0'), '--json']);
    assert.deepEqual(parseJson<{ document: unknown }>(got).document, doc);
    const ok = await cli(['pull', ref('team/sbom/app:1.0.0'), '--json', '-q']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });
});

describe('verified-digest cache', { timeout: 120_000 }, () => {
  it('a repeat check is a cache hit; the cache never lets another digest, key or a forged entry pass', async () => {
    const paths = resolvePaths({ AIONCTL_HOME: home.path });
    const dir = join(home.path, 'cache-layout');
    const target = new LayoutTarget(dir);
    await pushArtifact(target, 'signed');
    await pushArtifact(target, 'unsigned');
    assert.equal((await cli(['sign', `oci:${dir}:signed`, '--key', join(home.path, 'k1.key')])).code, 0);
    const config = { trust: [{ match: 'oci:/**', keys: [join(home.path, 'k1.pub')] }] };
    const refOf = (tag: string) => parseReference(`oci:${dir}:${tag}`);
    const first = await verifyAgainstPolicy(target, refOf('signed'), config, { paths });
    assert.equal(first.cached, false);
    const second = await verifyAgainstPolicy(target, refOf('signed'), config, { paths });
    assert.equal(second.cached, true);
    assert.equal(second.digest, first.digest);

    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: AionError) => e.code,
      );
    assert.equal(await code(verifyAgainstPolicy(target, refOf('unsigned'), config, { paths })), 'ST001');
    // Another key set: the entry does not apply.
    const otherKeys = { trust: [{ match: 'oci:/**', keys: [join(home.path, 'k2.pub')] }] };
    assert.equal(await code(verifyAgainstPolicy(target, refOf('signed'), otherKeys, { paths })), 'ST002');

    // Forge: put the verified entry (and one naming the unsigned digest with other keys) where a lookup for the
    // unsigned digest with the real keys looks. Neither may pass.
    const unsignedDigest = (await target.resolve('unsigned')).digest;
    const cacheDir = join(paths.cache, 'verified');
    const [entryName] = await readdir(cacheDir);
    const entry = await readFile(join(cacheDir, entryName as string), 'utf8');
    const fingerprints = (JSON.parse(entry) as { fingerprints: string[] }).fingerprints;
    const forgedPath = join(cacheDir, cacheKey(unsignedDigest, fingerprints, `oci:${dir}`));
    await writeFile(forgedPath, entry);
    assert.equal(await code(verifyAgainstPolicy(target, refOf('unsigned'), config, { paths })), 'ST001');
    const other = JSON.parse(entry) as { digest: string; fingerprints: string[] };
    other.digest = unsignedDigest;
    other.fingerprints = ['0'.repeat(64)];
    await writeFile(forgedPath, JSON.stringify(other));
    assert.equal(await code(verifyAgainstPolicy(target, refOf('unsigned'), config, { paths })), 'ST001');
    assert.equal(await openVerifiedCache(paths.cache).get(unsignedDigest, fingerprints, `oci:${dir}`), undefined);
    assert.equal(findTrustRule(config.trust, `oci:${dir}`)?.match, 'oci:/**');
  });
});

describe('sbom attach --generate', { timeout: 60_000 }, () => {
  it('writes a minimal SPDX 2.3 document listing the packed files and their digests', async () => {
    const { mkdir } = await import('node:fs/promises');
    const pkg = join(home.path, 'pkg');
    await mkdir(join(pkg, 'schemas'), { recursive: true });
    await writeFile(join(pkg, 'module.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    await writeFile(join(pkg, 'schemas', 'input.json'), '{"type":"object"}\n');
    await writeFile(
      join(pkg, 'aip.yaml'),
      'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: sbom_agent, version: "0.1.0"}\nruntime: {type: wasm, module: module.wasm}\n',
    );
    const layout = join(home.path, 'sbom-layout');
    const packed = await cli(['pack', pkg, '--output', `oci:${layout}:0.1.0`, '--json']);
    assert.equal(packed.code, 0, packed.stdout + packed.stderr);
    const both = await cli(['sbom', 'attach', `oci:${layout}:0.1.0`, join(pkg, 'aip.yaml'), '--generate', '--json']);
    assert.equal(errorCode(both), 'CI001');
    const gen = await cli(['sbom', 'attach', `oci:${layout}:0.1.0`, '--generate', '--json']);
    assert.equal(gen.code, 0, gen.stdout + gen.stderr);
    const got = parseJson<{
      mediaType: string;
      document: {
        spdxVersion: string;
        packages: Array<{ name: string; versionInfo: string }>;
        files: Array<{ fileName: string; checksums: Array<{ checksumValue: string }> }>;
      };
    }>(await cli(['sbom', 'get', `oci:${layout}:0.1.0`, '--json']));
    assert.equal(got.mediaType, 'application/spdx+json');
    assert.equal(got.document.spdxVersion, 'SPDX-2.3');
    assert.equal(got.document.packages[0]?.name, 'sbom_agent');
    const files = Object.fromEntries(got.document.files.map((f) => [f.fileName, f.checksums[0]?.checksumValue]));
    const { createHash } = await import('node:crypto');
    const sha = async (p: string) =>
      createHash('sha256')
        .update(await readFile(join(pkg, p)))
        .digest('hex');
    assert.equal(files['./module.wasm'], await sha('module.wasm'));
    assert.equal(files['./schemas/input.json'], await sha('schemas/input.json'));
  });
});
