import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parseReference } from '../../src/lib/oci/reference.js';
import { openTarget } from '../../src/lib/oci/targets.js';
import type { Target } from '../../src/lib/oci/types.js';
import { attachmentTag, buildSignatureManifest } from '../../src/lib/sign/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { type TestRegistry, startRegistry } from '../helpers/registry.js';
import {
  PASSWORD,
  manifestMediaType,
  plantInRegistryStorage,
  pushArtifact,
  expectedRejection,
  vectorArgs,
} from './fixtures.js';
import { signVerifyTamper } from './roundtrip.js';
import { VECTORS, type VectorCase, loadCases, readLayers, readOptional } from './vectors.js';

const run = promisify(execFile);

let registry: TestRegistry;
let home: { path: string; cleanup: () => Promise<void> };
const cli = (args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(args, {
    cwd: home.path,
    env: { AIONCTL_HOME: home.path, COSIGN_PASSWORD: PASSWORD, AIONCTL_REGISTRY_RETRIES: '0', ...extra },
  });
const errorCode = (r: CliResult) => parseJson<{ error: { code: string } }>(r).error.code;
const open = (repo: string): Promise<Target> => openTarget(parseReference(`${registry.host}/${repo}`));
const ref = (repo: string) => `${registry.host}/${repo}`;

before(async () => {
  registry = await startRegistry();
  home = await tempDir('aionctl-sign-reg-');
  for (const k of ['k1', 'k2']) {
    const r = await cli(['key', 'generate', '--output-prefix', join(home.path, k)]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await registry?.stop();
  await home?.cleanup();
});

describe('sign / verify on the real registry (distribution 2.8)', { timeout: 240_000 }, () => {
  it('sign → verify → tamper → reject', async () => {
    const target = await open('team/agent');
    await signVerifyTamper(target, (sel) => `${registry.host}/team/agent${sel}`, cli, home.path);
  });

  it('writes the .sig tag cosign reads, and bundles through the referrers tag schema (no referrers API)', async () => {
    const target = await open('team/bundled');
    const a = await pushArtifact(target, '1.0.0');
    const r = await cli([
      'sign',
      `${registry.host}/team/bundled:1.0.0`,
      '--key',
      join(home.path, 'k1.key'),
      '--bundle',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const tags = await target.tags();
    assert.ok(tags.includes(attachmentTag(a.digest)), tags.join(','));
    assert.ok(tags.includes(`sha256-${a.digest.slice(7)}`), 'referrers fallback index tag');
    // the .sig manifest's config is cosign's 233-byte empty image
    const sig = JSON.parse(Buffer.from((await target.fetchManifest(attachmentTag(a.digest))).bytes).toString());
    assert.equal(sig.config.size, 233);
    // remove the classic signature: the bundle alone must still verify
    const ok = await cli([
      'verify',
      `${registry.host}/team/bundled:1.0.0`,
      '--key',
      join(home.path, 'k1.pub'),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(parseJson<unknown[]>(ok).length, 2, 'one classic payload and one bundle statement');
  });

  it('$COSIGN_REPOSITORY keeps signatures in another repository', async () => {
    const target = await open('team/sep');
    const a = await pushArtifact(target, '1.0.0');
    const env = { COSIGN_REPOSITORY: `${registry.host}/team/signatures` };
    const s = await cli(['sign', `${registry.host}/team/sep:1.0.0`, '--key', join(home.path, 'k1.key'), '--json'], env);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.ok((await (await open('team/signatures')).tags()).includes(attachmentTag(a.digest)));
    assert.ok(!(await target.tags()).includes(attachmentTag(a.digest)));
    const v = await cli(
      ['verify', `${registry.host}/team/sep:1.0.0`, '--key', join(home.path, 'k1.pub'), '--json'],
      env,
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const none = await cli(['verify', `${registry.host}/team/sep:1.0.0`, '--key', join(home.path, 'k1.pub'), '--json']);
    assert.equal(errorCode(none), 'ST001');
    // pull honours $COSIGN_REPOSITORY too: the trust policy finds the signature where sign put it.
    const project = join(home.path, 'sep-project');
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, '.aionctl.yaml'),
      `trust:\n  - match: "${registry.host}/team/sep"\n    keys: ["${join(home.path, 'k1.pub')}"]\n`,
      { mode: 0o644 },
    );
    const pulled = await runCli(['pull', `${registry.host}/team/sep:1.0.0`, '--json', '-q'], {
      cwd: project,
      env: { AIONCTL_HOME: home.path, AIONCTL_REGISTRY_RETRIES: '0', ...env },
    });
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    assert.equal(parseJson<{ digest: string }>(pulled).digest, a.digest);
  });
});

describe('signatures travel with copy and pull', { timeout: 120_000 }, () => {
  it('store → registry (copy) → store (pull under a trust policy): every copy verifies', async () => {
    const { openStore } = await import('../../src/lib/oci/index.js');
    const store = openStore('travel/app', { AIONCTL_HOME: home.path });
    const a = await pushArtifact(store, '1.0.0');
    const k = (n: string) => join(home.path, n);
    assert.equal((await cli(['sign', 'travel/app:1.0.0', '--key', k('k1.key'), '--bundle'])).code, 0);
    const copied = await cli(['copy', 'travel/app:1.0.0', ref('travel/app:1.0.0'), '--json']);
    assert.equal(copied.code, 0, copied.stdout + copied.stderr);
    const there = await cli([
      'verify',
      ref('travel/app:1.0.0'),
      '--key',
      k('k1.pub'),
      '--identity',
      'travel/app',
      '--json',
    ]);
    assert.equal(there.code, 0, there.stdout + there.stderr);
    assert.equal(parseJson<unknown[]>(there).length, 2, 'classic signature and bundle both travelled');

    // Pull back into another store name under a policy that trusts k1 for this registry path.
    const project = join(home.path, 'travel-project');
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, '.aionctl.yaml'),
      `trust:\n  - match: "${registry.host}/travel/*"\n    keys: [${k('k1.pub')}]\n`,
    );
    const resigned = await cli(['sign', ref('travel/app:1.0.0'), '--key', k('k1.key')]);
    assert.equal(resigned.code, 0, resigned.stderr);
    const pulled = await runCli(['pull', ref('travel/app:1.0.0'), '--name', 'travel/copy', '-q', '--json'], {
      cwd: project,
      env: { AIONCTL_HOME: home.path, AIONCTL_REGISTRY_RETRIES: '0' },
    });
    assert.equal(pulled.code, 0, pulled.stdout + pulled.stderr);
    const local = await cli([
      'verify',
      'travel/copy:1.0.0',
      '--key',
      k('k1.pub'),
      '--identity',
      `${registry.host}/travel/app`,
      '--json',
    ]);
    assert.equal(local.code, 0, local.stdout + local.stderr);
    assert.equal(
      parseJson<Array<{ critical?: { image: Record<string, string> } }>>(local)[0]!.critical!.image[
        'docker-manifest-digest'
      ],
      a.digest,
    );
  });
});

/** Every classic vector in the registry: image manifest planted in storage, signatures pushed as `.sig`. */
describe('every cosign vector through `aionctl verify` on the real registry', { timeout: 300_000 }, async () => {
  const cases = (await loadCases()).filter((c) => c.case.startsWith('classic-'));
  const planted = new Map<string, string>();
  const plant = async (c: VectorCase): Promise<string> => {
    const repo = `vectors/${c.case}`;
    const manifest = await readOptional(join(VECTORS, c.case, 'manifest.json'));
    const layers = await readLayers(c.case);
    const signed = /"docker-manifest-digest":"(sha256:[a-f0-9]{64})"/.exec(
      Buffer.from(layers[0]!.payload).toString(),
    )?.[1];
    const digest = manifest
      ? await plantInRegistryStorage(registry.storageRoot, repo, 'v', manifest)
      : (signed as string);
    if (manifest) manifestMediaType(manifest); // parses: the vector is JSON
    const target = await open(repo);
    const built = buildSignatureManifest(layers);
    await target.pushBlob(built.config.descriptor, built.config.bytes);
    for (const l of built.layers) await target.pushBlob(l.descriptor, l.bytes);
    await target.pushManifest(built.descriptor, built.manifest, attachmentTag(digest));
    return digest;
  };
  for (const c of cases) {
    it(`${c.case} as ${c.reference} with ${c.key ?? 'certificate'}${c.rekorKey ? ' + rekor' : ''}: ${c.expect}`, async () => {
      if (!planted.has(c.case)) planted.set(c.case, await plant(c));
      const digest = planted.get(c.case) as string;
      const base = `${registry.host}/vectors/${c.case}`;
      const ref = c.case === 'classic-no-manifest' ? `${base}@${digest}` : `${base}:v`;
      const r = await cli(['verify', ref, ...vectorArgs(c), '--json']);
      if (c.expect === 'accept') {
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const payloads = parseJson<Array<{ critical: { image: Record<string, string> } }>>(r);
        assert.equal(payloads[0]!.critical.image['docker-manifest-digest'], digest);
      } else {
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(errorCode(r), expectedRejection(c, 'registry'), r.stdout);
      }
    });
  }
});

describe('interop: skopeo copies aionctl signatures to a mirror', { timeout: 120_000 }, () => {
  it('sign with aionctl, skopeo copy --all with use-sigstore-attachments, verify the mirror with --identity', async () => {
    const src = await open('src/app');
    const { randomBytes } = await import('node:crypto');
    const a = await pushArtifact(src, '1.0.0', randomBytes(64), 'application/vnd.oci.image.config.v1+json');
    const s = await cli(['sign', `${registry.host}/src/app:1.0.0`, '--key', join(home.path, 'k1.key'), '--json']);
    assert.equal(s.code, 0, s.stdout + s.stderr);

    const conf = join(home.path, 'containers');
    await mkdir(join(conf, 'registries.d'), { recursive: true });
    await writeFile(join(conf, 'registries.d', 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
    await writeFile(join(conf, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await run('skopeo', [
      'copy',
      '--all',
      '--preserve-digests',
      '--policy',
      join(conf, 'policy.json'),
      '--registries.d',
      join(conf, 'registries.d'),
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${registry.host}/src/app:1.0.0`,
      `docker://${registry.host}/mirror/app:1.0.0`,
    ]);
    const mirror = await open('mirror/app');
    assert.ok((await mirror.tags()).includes(attachmentTag(a.digest)), 'skopeo copied the .sig tag');

    const ok = await cli([
      'verify',
      `${registry.host}/mirror/app:1.0.0`,
      '--key',
      join(home.path, 'k1.pub'),
      '--identity',
      `${registry.host}/src/app`,
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(
      parseJson<Array<{ critical: { identity: Record<string, string> } }>>(ok)[0]!.critical.identity[
        'docker-reference'
      ],
      `${registry.host}/src/app`,
    );
    const noIdentity = await cli([
      'verify',
      `${registry.host}/mirror/app:1.0.0`,
      '--key',
      join(home.path, 'k1.pub'),
      '--json',
    ]);
    assert.equal(errorCode(noIdentity), 'ST004', 'the mirror is not the signed repository');
  });
});
