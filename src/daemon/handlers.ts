/**
 * The daemon's non-run endpoints: each calls the library function the CLI command calls (validate:
 * src/lib/manifest validatePaths; verify: src/lib/sign openArtifact + verifyArtifact; resolve: src/lib/install
 * resolvePackages, the resolution `aionctl install` does), plus the daemon's registry cache.
 */
import { createHash } from 'node:crypto';
import { type AionPaths, type Env, loadConfig, resolvePaths } from '../lib/config/index.js';
import { resolvePackages } from '../lib/install/index.js';
import { type ArtifactReference, formatReference, openTarget } from '../lib/oci/index.js';
import { validatePaths } from '../lib/manifest/index.js';
import {
  createPolicyVerifier,
  keyFingerprint,
  loadPublicKey,
  openArtifact,
  openSignatureRepository,
  verifyArtifact,
} from '../lib/sign/index.js';
import type { ApiHandlers, ResolveBody, ServerCaches, VerifyBody } from './server.js';

const TAG_TTL_MS = 30_000;

export function libraryHandlers(env: Env, paths: AionPaths = resolvePaths(env)): ApiHandlers {
  return {
    async resolve(body: ResolveBody, caches: ServerCaches) {
      // Registry repositories go through the daemon's cache (tag lists and tag answers briefly, manifests by
      // digest for good); local layouts are read directly.
      const openRepository = async (ref: ArtifactReference) => {
        const target = await openTarget(ref, { env });
        return ref.kind === 'registry' ? caches.registry.wrap(target, formatReference(ref)) : target;
      };
      return resolvePackages({
        cwd: body.cwd,
        env,
        paths,
        specs: body.packages,
        openRepository,
        ...(body.update ? { update: true } : {}),
        ...(body.offline ? { offline: true } : {}),
      });
    },
    async validate({ paths, cwd }) {
      return validatePaths(paths, { cwd });
    },
    async verify(body: VerifyBody, caches: ServerCaches) {
      if (!body.keys) return verifyAgainstPolicy(body, env, paths);
      const keys = body.keys.map((pem, i) => loadPublicKey(pem, `keys[${i}]`));
      const fingerprints = keys.map(keyFingerprint).sort();
      const open = { env, plainHttp: body.plainHttp };
      const opened = await openArtifact(body.ref, open);
      const identity = body.identity ?? opened.identity;
      try {
        // tag → digest answers are kept a short time (tags move); digests are immutable.
        const tagKey = `${body.ref}`;
        let digest = opened.ref.digest ?? caches.registry.tags.get(`verify:${tagKey}`)?.digest;
        const cacheKey = (d: string) =>
          createHash('sha256')
            .update(JSON.stringify([d, fingerprints, identity]))
            .digest('hex');
        if (digest) {
          const hit = caches.registry.verified.get(cacheKey(digest));
          if (hit) {
            caches.onVerifiedHit();
            return { ...(hit as object), cached: true };
          }
        }
        const signatureTarget = await openSignatureRepository(open);
        const result = await verifyArtifact(opened.target, opened.selector, {
          keys,
          expectedIdentity: identity,
          signatureTarget,
        }).finally(async () => {
          if (signatureTarget) await signatureTarget.close();
        });
        digest = result.digest;
        if (!opened.ref.digest)
          caches.registry.tags.set(
            `verify:${tagKey}`,
            { mediaType: '', digest, size: 0 },
            tagKey.length + digest.length + 64,
            { ttlMs: TAG_TTL_MS },
          );
        const answer = {
          digest,
          identity,
          verified: result.verified.map((v) => ({
            source: v.source,
            signer: v.signer,
            payload: v.payload.toString('utf8'),
          })),
        };
        caches.registry.verified.set(cacheKey(digest), answer, JSON.stringify(answer).length + 256);
        return { ...answer, cached: false };
      } finally {
        await opened.target.close();
      }
    },
  };
}

/**
 * `aionctl verify REF` without keys: "is this allowed here?" under the trust policy in effect at `cwd` (nothing is
 * recorded). Not cached: the policy names key files whose contents may change without a watched file changing.
 */
async function verifyAgainstPolicy(body: VerifyBody, env: Env, paths: AionPaths) {
  const loaded = await loadConfig(body.cwd!, paths.config);
  const open = { env, plainHttp: body.plainHttp };
  const opened = await openArtifact(body.ref, open);
  const signatureTarget = await openSignatureRepository(open);
  try {
    const verifier = createPolicyVerifier(loaded.config, { paths, env, record: false, signatureTarget });
    const result = await verifier.verify(opened.target, opened.ref);
    return { ...result, identity: opened.identity, warnings: loaded.warnings };
  } finally {
    await opened.target.close();
    if (signatureTarget) await signatureTarget.close();
  }
}
