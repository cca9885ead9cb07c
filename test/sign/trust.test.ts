import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AionPaths, resolvePaths } from '../../src/lib/config/index.js';
import { AionError } from '../../src/lib/errors/index.js';
import { ANNOTATIONS, extractPackage, LayoutTarget } from '../../src/lib/oci/index.js';
import { parseReference } from '../../src/lib/oci/reference.js';
import { type Descriptor, EMPTY_DESCRIPTOR, MEDIA_TYPES, type Target } from '../../src/lib/oci/types.js';
import {
  attachmentTag,
  buildKeyBundle,
  cacheKey,
  CACHE_KEY_FILE,
  createPolicyVerifier,
  generateSigningKey,
  loadPublicKey,
  MAX_CACHE_ENTRY_BYTES,
  openVerifiedCache,
  publicKeyPem,
  pushBundleReferrer,
  sha256Digest,
  signArtifact,
  signBytes,
  signStatement,
  verifiedSboms,
} from '../../src/lib/sign/index.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { pushArtifact } from './fixtures.js';

let home: { path: string; cleanup: () => Promise<void> };
let paths: AionPaths;
const key = generateSigningKey();
const signer = { publicKey: key.publicKey, sign: async (d: Uint8Array) => signBytes(key.privateKey, d) };
let pub: string;
const cli = (args: string[], cwd = home.path): Promise<CliResult> =>
  runCli(args, { cwd, env: { AIONCTL_HOME: join(home.path, 'home') } });
const errorCode = (r: CliResult) => parseJson<{ error: { code: string } }>(r).error.code;

async function caught(p: Promise<unknown>): Promise<AionError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AionError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

before(async () => {
  home = await tempDir('aionctl-trust-');
  paths = resolvePaths({ AIONCTL_HOME: join(home.path, 'home') });
  pub = join(home.path, 'k.pub');
  await writeFile(pub, publicKeyPem(key.publicKey));
});
after(async () => home?.cleanup());

/** A package artifact whose layers carry the given titles (content = the title). */
async function titled(target: Target, tag: string, titles: string[]): Promise<Descriptor> {
  const layers: Descriptor[] = [];
  for (const title of titles) {
    const bytes = Buffer.from(`content of ${title}\n`);
    const d: Descriptor = {
      mediaType: MEDIA_TYPES.fileLayer,
      size: bytes.length,
      digest: sha256Digest(bytes),
      annotations: { [ANNOTATIONS.title]: title },
    };
    await target.pushBlob(d, bytes);
    layers.push(d);
  }
  await target.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageManifest, config: EMPTY_DESCRIPTOR, layers }),
  );
  const d = { mediaType: MEDIA_TYPES.imageManifest, size: manifest.length, digest: sha256Digest(manifest) };
  await target.pushManifest(d, manifest, tag);
  return d;
}

describe('pull -o extraction refuses hidden paths and never replaces files silently', () => {
  it('refuses titles with a hidden segment before writing anything', async () => {
    const target = new LayoutTarget(join(home.path, 'extract-layout'));
    for (const [tag, title] of [
      ['hook', '.git/hooks/pre-commit'],
      ['cfg', '.aionctl.yaml'],
      ['deep', 'src/.env'],
    ] as const) {
      await titled(target, tag, ['aip.yaml', title]);
      const out = join(home.path, `out-${tag}`);
      const err = await caught(extractPackage(target, tag, out));
      assert.equal(err.code, 'FS007');
      assert.match(err.message, /hidden path/);
      await assert.rejects(stat(out), /ENOENT/);
    }
  });

  it('existing files are kept unless --force; titles `a` and `a/b` leave no directory behind', async () => {
    const target = new LayoutTarget(join(home.path, 'extract-layout'));
    await titled(target, 'pkg', ['aip.yaml', 'lib/x.js']);
    const out = join(home.path, 'out-existing');
    await mkdir(out);
    await writeFile(join(out, 'aip.yaml'), 'mine\n', { mode: 0o444 });
    const err = await caught(extractPackage(target, 'pkg', out));
    assert.equal(err.code, 'FS013');
    assert.equal(await readFile(join(out, 'aip.yaml'), 'utf8'), 'mine\n');
    assert.deepEqual(await readdir(out), ['aip.yaml']);
    const forced = await extractPackage(target, 'pkg', out, { force: true });
    assert.equal(forced.files.length, 2);
    assert.equal(await readFile(join(out, 'aip.yaml'), 'utf8'), 'content of aip.yaml\n');

    await titled(target, 'clash', ['a', 'a/b']);
    const clash = join(home.path, 'out-clash');
    assert.equal((await caught(extractPackage(target, 'clash', clash))).code, 'FS007');
    await assert.rejects(stat(clash), /ENOENT/);
    await mkdir(clash);
    assert.equal((await caught(extractPackage(target, 'clash', clash))).code, 'FS007');
    assert.deepEqual(await readdir(clash), []);
  });

  it('`pull -o` passes --force through and refuses without it (FS013, exit 3)', async () => {
    const layout = join(home.path, 'pull-layout');
    await titled(new LayoutTarget(layout), '1.0.0', ['aip.yaml']);
    const out = join(home.path, 'pull-out');
    await mkdir(out);
    await writeFile(join(out, 'aip.yaml'), 'mine\n');
    const args = ['pull', `oci:${layout}:1.0.0`, '-o', out, '--insecure-skip-verify', '--json', '-q'];
    const refused = await cli(args);
    assert.equal(errorCode(refused), 'FS013');
    assert.equal(await readFile(join(out, 'aip.yaml'), 'utf8'), 'mine\n');
    const forced = await cli([...args, '--force']);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal(await readFile(join(out, 'aip.yaml'), 'utf8'), 'content of aip.yaml\n');
  });
});

describe('keys', () => {
  it('RSA keys below 2048 bits are refused (ST022); 2048 is accepted', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    const err = (() => {
      try {
        loadPublicKey(weak.toString(), 'weak.pub');
      } catch (e) {
        return e as AionError;
      }
      return undefined;
    })();
    assert.equal(err?.code, 'ST022');
    const ok = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    assert.equal(loadPublicKey(ok.toString()).asymmetricKeyDetails?.modulusLength, 2048);
  });
});

describe('verified-digest cache is authenticated', () => {
  it('entries carry an HMAC with a 0600 per-user key; copied or edited entries miss; an unsafe dir is not used', async () => {
    const p = resolvePaths({ AIONCTL_HOME: join(home.path, 'cache-home') });
    const cache = openVerifiedCache(p);
    const digest = `sha256:${'a'.repeat(64)}`;
    const fps = ['f'.repeat(64)];
    await cache.put({ digest, fingerprints: fps, identity: 'r/x', signer: 's' });
    assert.equal((await cache.get(digest, fps, 'r/x'))?.signer, 's');
    assert.equal((await stat(join(p.data, CACHE_KEY_FILE))).mode & 0o777, 0o600);
    // A forged entry (no valid MAC) in the right place is a miss.
    const other = `sha256:${'b'.repeat(64)}`;
    const forged = { digest: other, fingerprints: fps, identity: 'r/x', signer: 'evil', verifiedAt: 'now', mac: '00' };
    await writeFile(join(p.cache, 'verified', cacheKey(other, fps, 'r/x')), JSON.stringify(forged));
    assert.equal(await openVerifiedCache(p).get(other, fps, 'r/x'), undefined);
    const entry = JSON.parse(await readFile(join(p.cache, 'verified', cacheKey(digest, fps, 'r/x')), 'utf8'));
    await writeFile(
      join(p.cache, 'verified', cacheKey(other, fps, 'r/x')),
      JSON.stringify({ ...entry, digest: other }),
    );
    assert.equal(await openVerifiedCache(p).get(other, fps, 'r/x'), undefined);
    // World-writable cache dir: not used at all.
    await chmod(join(p.cache, 'verified'), 0o777);
    const unsafe = openVerifiedCache(p);
    assert.equal(await unsafe.get(digest, fps, 'r/x'), undefined);
    assert.match(unsafe.problem() ?? '', /mode 777/);
    await chmod(join(p.cache, 'verified'), 0o700);
    await chmod(join(p.data, CACHE_KEY_FILE), 0o644);
    const leakedKey = openVerifiedCache(p);
    assert.equal(await leakedKey.get(digest, fps, 'r/x'), undefined);
    assert.match(leakedKey.problem() ?? '', /mode 644/);
  });
});

describe('verified-digest cache entries are bounded', () => {
  it('a valid entry padded past 64 KiB is a miss, not read', async () => {
    const p = resolvePaths({ AIONCTL_HOME: join(home.path, 'cache-big') });
    const cache = openVerifiedCache(p);
    const digest = `sha256:${'c'.repeat(64)}`;
    const fps = ['e'.repeat(64)];
    await cache.put({ digest, fingerprints: fps, identity: 'r/y', signer: 's' });
    const file = join(p.cache, 'verified', cacheKey(digest, fps, 'r/y'));
    const text = await readFile(file, 'utf8');
    assert.equal((await openVerifiedCache(p).get(digest, fps, 'r/y'))?.signer, 's');
    await writeFile(file, text + ' '.repeat(MAX_CACHE_ENTRY_BYTES));
    assert.equal(await openVerifiedCache(p).get(digest, fps, 'r/y'), undefined);
  });
});

describe('bundles keep the identity binding under the trust policy', () => {
  it('a bundle signed for one repository does not count for a copy; unbound bundles only with allowUnboundBundles', async () => {
    const dev = join(home.path, 'team-devbuild');
    const devTarget = new LayoutTarget(dev);
    const artifact = await pushArtifact(devTarget, '1.0.0');
    await signArtifact(devTarget, '1.0.0', { signer, identity: `oci:${dev}`, classic: false, bundle: true });
    const prod = join(home.path, 'team-agent');
    await cp(dev, prod, { recursive: true });
    const config = { trust: [{ match: 'oci:/**', keys: [pub] }] };
    const verifier = createPolicyVerifier(config, { paths, env: {}, cache: false });
    const ok = await verifier.verify(devTarget, parseReference(`oci:${dev}:1.0.0`));
    assert.equal(ok.digest, artifact.digest);
    const copied = await caught(verifier.verify(new LayoutTarget(prod), parseReference(`oci:${prod}:1.0.0`)));
    assert.equal(copied.code, 'ST004');
    assert.match(copied.message, /signed for oci:.*team-devbuild/);
    const quarantined = await caught(verifier.verify(new LayoutTarget(prod), parseReference(`oci:${prod}:1.0.0`)));
    assert.equal(quarantined.code, 'ST013');

    // A cosign-style bundle: no subject name.
    const bare = join(home.path, 'bare');
    const bareTarget = new LayoutTarget(bare);
    const bareArtifact = await pushArtifact(bareTarget, '1.0.0');
    await pushBundleReferrer(
      bareTarget,
      bareArtifact,
      await buildKeyBundle(signer, signStatement(bareArtifact.digest)),
    );
    const strict = createPolicyVerifier(config, { paths, env: {}, cache: false, quarantine: false });
    assert.equal((await caught(strict.verify(bareTarget, parseReference(`oci:${bare}:1.0.0`)))).code, 'ST021');
    const lenient = createPolicyVerifier(
      { trust: [{ match: 'oci:/**', keys: [pub], allowUnboundBundles: true }] },
      { paths, env: {}, cache: false },
    );
    assert.equal((await lenient.verify(bareTarget, parseReference(`oci:${bare}:1.0.0`))).digest, bareArtifact.digest);
    // `verify --key` keeps cosign's behaviour (no binding for bundles).
    const r = await cli(['verify', `oci:${prod}:1.0.0`, '--key', pub, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe('referrers are not trusted by presence', () => {
  it('junk under the legacy .sbom tag: sbom get is ST024 (not 70) and requireSbom does not count it', async () => {
    const dir = join(home.path, 'junk-sbom');
    const target = new LayoutTarget(dir);
    const artifact = await pushArtifact(target, '1.0.0');
    await signArtifact(target, '1.0.0', { signer, identity: `oci:${dir}` });
    const junk = Buffer.from('junk');
    const layer = { mediaType: 'text/spdx', size: junk.length, digest: sha256Digest(junk) };
    await target.pushBlob(layer, junk);
    await target.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.imageManifest,
        config: EMPTY_DESCRIPTOR,
        layers: [layer],
      }),
    );
    const md = { mediaType: MEDIA_TYPES.imageManifest, size: m.length, digest: sha256Digest(m) };
    await target.pushManifest(md, m, attachmentTag(artifact.digest, 'sbom'));
    // Even signed by the right key, junk is not an SBOM.
    await signArtifact(target, md.digest, { signer, identity: `oci:${dir}` });
    const got = await cli(['sbom', 'get', `oci:${dir}:1.0.0`, '--json']);
    assert.equal(got.code, 6, got.stdout + got.stderr);
    assert.equal(errorCode(got), 'ST024');
    const found = await verifiedSboms(target, artifact, { keys: [key.publicKey], identity: `oci:${dir}` });
    assert.equal(found.verified.length, 0);
    assert.match(found.problems[0] ?? '', /ST024/);
    const verifier = createPolicyVerifier(
      { trust: [{ match: 'oci:/**', keys: [pub], requireSbom: true }] },
      { paths, env: {}, cache: false, quarantine: false },
    );
    assert.equal((await caught(verifier.verify(target, parseReference(`oci:${dir}:1.0.0`)))).code, 'ST024');
  });

  it('pull copies only known referrer types within the size cap', async () => {
    const dir = join(home.path, 'flooded');
    const target = new LayoutTarget(dir);
    const artifact = await pushArtifact(target, '1.0.0');
    await target.pushBlob(EMPTY_DESCRIPTOR, Buffer.from('{}'));
    const referrer = async (artifactType: string, size: number) => {
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.imageManifest,
          artifactType,
          config: EMPTY_DESCRIPTOR,
          // Declared only: pulling it would fail, as the blob is not there.
          layers: [{ mediaType: 'application/octet-stream', size, digest: `sha256:${'c'.repeat(64)}` }],
          subject: { mediaType: artifact.mediaType, size: artifact.size, digest: artifact.digest },
        }),
      );
      await target.pushManifest(
        { mediaType: MEDIA_TYPES.imageManifest, size: m.length, digest: sha256Digest(m), artifactType },
        m,
      );
    };
    await referrer('application/x-junk', 10);
    await referrer('application/spdx+json', 200 * 1024 * 1024);
    const r = await cli(['pull', `oci:${dir}:1.0.0`, '--name', 'flooded', '--insecure-skip-verify', '--json', '-q']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(parseJson<{ digest: string }>(r).digest, artifact.digest);
  });
});

describe('verify without --key: is this allowed here?', () => {
  it('checks against the trust policy in effect and records nothing', async () => {
    const project = join(home.path, 'verify-project');
    await mkdir(project);
    await writeFile(join(project, '.aionctl.yaml'), `trust:\n  - match: "oci:/**"\n    keys: [../k.pub]\n`);
    const dir = join(home.path, 'verify-layout');
    const target = new LayoutTarget(dir);
    const signed = await pushArtifact(target, 'signed');
    await pushArtifact(target, 'unsigned');
    await signArtifact(target, 'signed', { signer, identity: `oci:${dir}` });
    const ok = await cli(['verify', `oci:${dir}:signed`, '--json'], project);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const result = parseJson<{ digest: string; rule: { match: string; source: string }; signer: string }>(ok);
    assert.equal(result.digest, signed.digest);
    assert.equal(result.rule.source, join(project, '.aionctl.yaml'));
    assert.equal(result.signer.length > 0, true);
    const refused = await cli(['verify', `oci:${dir}:unsigned`, '--json'], project);
    assert.equal(refused.code, 6);
    assert.equal(errorCode(refused), 'ST001');
    const unsignedDigest = (await target.resolve('unsigned')).digest;
    const ls = parseJson<Array<{ digest: string }>>(await cli(['quarantine', 'ls', '--json'], project));
    assert.ok(!ls.some((r) => r.digest === unsignedDigest));
  });
});
