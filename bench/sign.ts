// Signing and verification on a real local registry (Debian docker-registry): verify cold (full signature check)
// and cached (trust-policy cache hit), median of 50 each, against resolving the same tag (the floor every check
// pays); sign 100 artifacts; and the CLI `verify` wall time for scale.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths } from '../src/lib/config/index.js';
import { parseReference } from '../src/lib/oci/reference.js';
import { openTarget } from '../src/lib/oci/targets.js';
import { MEDIA_TYPES, type Target } from '../src/lib/oci/types.js';
import {
  createPolicyVerifier,
  encryptSigningKey,
  generateSigningKey,
  publicKeyPem,
  sha256Digest,
  signArtifact,
  signBytes,
  verifyAgainstPolicy,
  verifyArtifact,
} from '../src/lib/sign/index.js';
import { startRegistry } from '../test/helpers/registry.js';
import { REPO_ROOT, median, medianOf, round, timeCommand } from './util.js';

async function pushArtifact(target: Target, tag: string): Promise<void> {
  const layer = randomBytes(1024);
  const config = Buffer.from('{}');
  const cd = { mediaType: MEDIA_TYPES.agentConfig, size: config.length, digest: sha256Digest(config) };
  const ld = { mediaType: MEDIA_TYPES.fileLayer, size: layer.length, digest: sha256Digest(layer) };
  await target.pushBlob(cd, config);
  await target.pushBlob(ld, layer);
  const m = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageManifest, config: cd, layers: [ld] }),
  );
  await target.pushManifest({ mediaType: MEDIA_TYPES.imageManifest, size: m.length, digest: sha256Digest(m) }, m, tag);
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function medianAsync(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeAsync(fn));
  return median(times);
}

export async function signBench(): Promise<Record<string, number | string>> {
  const registry = await startRegistry();
  const home = await mkdtemp(join(tmpdir(), 'aionctl-bench-sign-'));
  try {
    const key = generateSigningKey();
    const signer = { publicKey: key.publicKey, sign: async (d: Uint8Array) => signBytes(key.privateKey, d) };
    await writeFile(join(home, 'k.pub'), publicKeyPem(key.publicKey));
    await writeFile(join(home, 'k.key'), encryptSigningKey(key, 'pw'), { mode: 0o600 });
    const refText = `${registry.host}/bench/app:1.0.0`;
    const ref = parseReference(refText);
    const target = await openTarget(ref);
    await pushArtifact(target, '1.0.0');
    await signArtifact(target, '1.0.0', { signer, identity: `${registry.host}/bench/app` });

    const paths = resolvePaths({ AIONCTL_HOME: home });
    const config = { trust: [{ match: `${registry.host}/bench/*`, keys: [join(home, 'k.pub')] }] };
    const resolveMs = await medianAsync(50, () => target.resolve('1.0.0'));
    const coldMs = await medianAsync(50, () =>
      verifyArtifact(target, '1.0.0', { keys: [key.publicKey], expectedIdentity: `${registry.host}/bench/app` }),
    );
    const policyColdMs = await medianAsync(50, () =>
      verifyAgainstPolicy(target, ref, config, { paths, noCache: true }),
    );
    await verifyAgainstPolicy(target, ref, config, { paths });
    const cachedMs = await medianAsync(50, async () => {
      const r = await verifyAgainstPolicy(target, ref, config, { paths });
      if (!r.cached) throw new Error('expected a cache hit');
    });

    // One verifier reused (keys loaded, rules compiled and the cache key read once), as a daemon or `install` does.
    const verifier = createPolicyVerifier(config, { paths, env: {} });
    await verifier.verify(target, ref);
    const reusedCachedMs = await medianAsync(50, async () => {
      const r = await verifier.verify(target, ref);
      if (!r.cached) throw new Error('expected a cache hit');
    });

    const sigTarget = await openTarget(parseReference(`${registry.host}/bench/many`));
    for (let i = 0; i < 100; i++) await pushArtifact(sigTarget, `v${i}`);
    const sign100Ms = await timeAsync(async () => {
      for (let i = 0; i < 100; i++)
        await signArtifact(sigTarget, `v${i}`, { signer, identity: `${registry.host}/bench/many` });
    });

    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const env = { ...process.env, AIONCTL_HOME: home };
    const cliVerifyMs = medianOf(5, () =>
      timeCommand(process.execPath, [bin, 'verify', refText, '--key', join(home, 'k.pub')], { env }),
    );
    const cliVersionMs = medianOf(5, () => timeCommand(process.execPath, [bin, '--version'], { env }));
    await (target as { close?: () => Promise<void> }).close?.();
    await (sigTarget as { close?: () => Promise<void> }).close?.();
    return {
      resolve_tag_median_ms: round(resolveMs),
      verify_cold_median_ms: round(coldMs),
      verify_policy_nocache_median_ms: round(policyColdMs),
      verify_policy_cached_median_ms: round(cachedMs),
      verify_policy_reused_cached_median_ms: round(reusedCachedMs),
      verify_cold_over_resolve_ratio: round(coldMs / resolveMs),
      verify_cached_over_resolve_ratio: round(cachedMs / resolveMs),
      sign_100_total_ms: round(sign100Ms),
      sign_per_artifact_ms: round(sign100Ms / 100),
      cli_verify_median_ms: round(cliVerifyMs),
      cli_version_median_ms: round(cliVersionMs),
      runs: 'median of 50 in-process (cold/cached/resolve), 5 for the CLI; registry on loopback',
    };
  } finally {
    await registry.stop();
    await rm(home, { recursive: true, force: true });
  }
}
