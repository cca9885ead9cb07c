import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LayoutTarget, openStore } from '../../src/lib/oci/index.js';
import { MEDIA_TYPES } from '../../src/lib/oci/types.js';
import { parsePemBlocks } from '../../src/lib/sign/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { PASSWORD, plantVector, pushArtifact, expectedRejection, vectorArgs, vectorFile } from './fixtures.js';
import { signVerifyTamper } from './roundtrip.js';
import { loadCases } from './vectors.js';

interface ErrorJson {
  error: { code: string; message: string };
}

let home: { path: string; cleanup: () => Promise<void> };
const env = () => ({ AIONCTL_HOME: home.path, COSIGN_PASSWORD: PASSWORD });
const cli = (args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(args, { cwd: home.path, env: { ...env(), ...extra } });
const errorCode = (r: CliResult) => parseJson<ErrorJson>(r).error.code;

before(async () => {
  home = await tempDir('aionctl-sign-');
  const r = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k1')]);
  assert.equal(r.code, 0, r.stderr);
  const r2 = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k2')]);
  assert.equal(r2.code, 0, r2.stderr);
});
after(async () => home.cleanup());

describe('aionctl key', { timeout: 120_000 }, () => {
  it('generate writes a cosign encrypted key (0600) and an SPKI public key (0644)', async () => {
    const key = await readFile(join(home.path, 'k1.key'), 'utf8');
    assert.match(key, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const body = JSON.parse(parsePemBlocks(key)[0]!.der.toString());
    assert.deepEqual(body.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal((await stat(join(home.path, 'k1.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(home.path, 'k1.pub'))).mode & 0o777, 0o644);
    assert.match(await readFile(join(home.path, 'k1.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    assert.ok(!key.includes(PASSWORD));
  });

  it('generate refuses to overwrite, and fails without a password when there is no terminal', async () => {
    const again = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k1'), '--json']);
    assert.equal(again.code, 2);
    assert.equal(errorCode(again), 'CI001');
    const noPw = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k9'), '--json'], {
      COSIGN_PASSWORD: undefined,
      AIONCTL_PASSWORD: undefined,
    });
    assert.equal(noPw.code, 2);
    assert.equal(errorCode(noPw), 'CI003');
    const viaAion = await cli(['key', 'generate', '--output-prefix', join(home.path, 'k8')], {
      COSIGN_PASSWORD: undefined,
      AIONCTL_PASSWORD: 'x',
    });
    assert.equal(viaAion.code, 0, viaAion.stderr);
  });

  it('import reads both cosign PEM labels, refuses SEC1 plaintext and wrong passwords', async () => {
    const ok = await cli(
      [
        'key',
        'import',
        vectorFile('key-import/sigstore-rs-ecdsa_encrypted_private.key'),
        '--output-prefix',
        join(home.path, 'imp1'),
        '--json',
      ],
      { COSIGN_PASSWORD: '123' },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      parseJson<{ fingerprint: string }>(ok).fingerprint,
      '00208863d9785226df9ad68ceb2ad5b43f1f5ddd686147f25116ee088726eb6d',
    );
    const ok2 = await cli(
      [
        'key',
        'import',
        vectorFile('key-import/cosign-keys_test-pemsigstorekey.key'),
        '--output-prefix',
        join(home.path, 'imp2'),
        '--json',
      ],
      { COSIGN_PASSWORD: 'hello' },
    );
    assert.equal(parseJson<{ fingerprint: string }>(ok2).fingerprint.slice(0, 8), 'f1057bf3');
    const wrong = await cli(
      [
        'key',
        'import',
        vectorFile('key-import/cosign-keys_test-pemsigstorekey.key'),
        '--output-prefix',
        join(home.path, 'imp3'),
        '--json',
      ],
      { COSIGN_PASSWORD: 'hellox' },
    );
    assert.equal(wrong.code, 6);
    assert.equal(errorCode(wrong), 'ST007');
    const sec1 = await cli(
      [
        'key',
        'import',
        vectorFile('key-import/cosign-keys_test-pemcosigneckey-sec1.key'),
        '--output-prefix',
        join(home.path, 'imp4'),
        '--json',
      ],
      { COSIGN_PASSWORD: 'hello' },
    );
    assert.equal(errorCode(sec1), 'ST008');
  });

  it('import takes a plain PKCS#8 PEM; public prints the matching public key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(home.path, 'plain.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = await cli(['key', 'import', join(home.path, 'plain.pem'), '--output-prefix', join(home.path, 'plain')]);
    assert.equal(r.code, 0, r.stderr);
    const pub = await cli(['key', 'public', '--key', join(home.path, 'plain.key')]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const viaEnv = await cli(['key', 'public', '--key', 'env://MY_KEY', '--json'], {
      MY_KEY: await readFile(join(home.path, 'plain.key'), 'utf8'),
    });
    assert.equal(parseJson<{ publicKey: string }>(viaEnv).publicKey, pub.stdout);
    const kms = await cli(['key', 'public', '--key', 'awskms://alias/release', '--json']);
    assert.equal(errorCode(kms), 'ST006');
    assert.match(parseJson<ErrorJson>(kms).error.message, /not supported yet/);
  });
});

/** sign → verify → tamper → reject on one kind of place. */
async function roundTrip(kind: 'layout' | 'store') {
  const dir = join(home.path, `rt-${kind}`);
  const target = kind === 'layout' ? new LayoutTarget(dir) : openStore('acme/agent', { AIONCTL_HOME: home.path });
  const ref = (sel: string) => (kind === 'layout' ? `oci:${dir}${sel}` : `acme/agent${sel}`);
  await signVerifyTamper(target, ref, cli, home.path);
}

describe('aionctl sign / verify round trips', { timeout: 180_000 }, () => {
  it('oci: layout: sign → verify → tamper → reject', async () => roundTrip('layout'));
  it('local store: sign → verify → tamper → reject', async () => roundTrip('store'));

  it('bundle format: a key-signed v0.3 bundle referrer verifies alone and rejects another key', async () => {
    const dir = join(home.path, 'bundle-layout');
    const target = new LayoutTarget(dir);
    const a = await pushArtifact(target, '1.0.0');
    const r = await cli([
      'sign',
      `oci:${dir}:1.0.0`,
      '--key',
      join(home.path, 'k1.key'),
      '--format',
      'bundle',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const refs = await target.referrers(a, MEDIA_TYPES.sigstoreBundle);
    assert.equal(refs.length, 1);
    const ok = await cli(['verify', `oci:${dir}:1.0.0`, '--key', join(home.path, 'k1.pub'), '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const statement = parseJson<Array<{ subject: Array<{ digest: { sha256: string } }> }>>(ok)[0]!;
    assert.equal(`sha256:${statement.subject[0]!.digest.sha256}`, a.digest);
    const bad = await cli(['verify', `oci:${dir}:1.0.0`, '--key', join(home.path, 'k2.pub'), '--json']);
    assert.equal(errorCode(bad), 'ST002');
  });

  it('refuses a reference without tag or digest, and a public key for signing', async () => {
    const noTag = await cli([
      'sign',
      `oci:${join(home.path, 'rt-layout')}`,
      '--key',
      join(home.path, 'k1.key'),
      '--json',
    ]);
    assert.notEqual(noTag.code, 0);
    const pubForSign = await cli([
      'sign',
      `oci:${join(home.path, 'rt-layout')}:1.0.0`,
      '--key',
      join(home.path, 'k1.pub'),
      '--json',
    ]);
    assert.equal(errorCode(pubForSign), 'ST008');
  });
});

describe('every cosign vector through `aionctl verify` on an oci: layout', { timeout: 300_000 }, async () => {
  const cases = (await loadCases()).filter((c) => c.case.startsWith('classic-'));
  const planted = new Map<string, string>();
  for (const c of cases) {
    it(`${c.case} as ${c.reference} with ${c.key ?? 'certificate'}${c.rekorKey ? ' + rekor' : ''}: ${c.expect}`, async () => {
      const dir = join(home.path, 'vectors', c.case);
      if (!planted.has(c.case)) planted.set(c.case, await plantVector(new LayoutTarget(dir), c.case, 'v'));
      const digest = planted.get(c.case) as string;
      const ref = c.case === 'classic-no-manifest' ? `oci:${dir}@${digest}` : `oci:${dir}:v`;
      const r = await cli(['verify', ref, ...vectorArgs(c), '--json']);
      if (c.expect === 'accept') {
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const payloads = parseJson<Array<{ critical: { image: Record<string, string> } }>>(r);
        assert.ok(payloads.length >= 1);
        assert.equal(payloads[0]!.critical.image['docker-manifest-digest'], digest);
      } else {
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(errorCode(r), expectedRejection(c, 'layout'), r.stdout);
      }
    });
  }
});

describe('hostile signature manifests', { timeout: 60_000 }, () => {
  it('refuses oversized payload claims and absurd layer counts without downloading them', async () => {
    const { readClassicSignatures: read } = await import('../../src/lib/sign/index.js');
    const { sha256Digest } = await import('../../src/lib/sign/index.js');
    const dir = join(home.path, 'hostile');
    const target = new LayoutTarget(dir);
    const a = await pushArtifact(target, '1.0.0');
    const hex = a.digest.slice(7);
    const push = async (layers: unknown[]) => {
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            size: 2,
            digest: sha256Digest(Buffer.from('{}')),
          },
          layers,
        }),
      );
      await target.pushManifest(
        { mediaType: MEDIA_TYPES.imageManifest, size: m.length, digest: sha256Digest(m) },
        m,
        `sha256-${hex}.sig`,
      );
    };
    const layer = { mediaType: MEDIA_TYPES.cosignSimpleSigning, size: 2 ** 40, digest: `sha256:${'0'.repeat(64)}` };
    await push([layer]);
    await assert.rejects(read(target, a.digest), (e: { code?: string }) => e.code === 'ST005');
    await push(Array.from({ length: 1001 }, () => ({ ...layer, size: 10 })));
    await assert.rejects(read(target, a.digest), (e: { code?: string }) => e.code === 'ST005');
    const r = await cli(['verify', `oci:${dir}:1.0.0`, '--key', join(home.path, 'k1.pub'), '--json']);
    assert.equal(r.code, 6);
    assert.equal(errorCode(r), 'ST005');
  });
});
