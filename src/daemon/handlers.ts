/**
 * The daemon's non-run endpoints: each calls the library function the CLI command calls (validate:
 * src/lib/manifest validatePaths; verify: src/lib/sign openArtifact + verifyArtifact), plus the daemon's caches.
 */
import { createHash } from 'node:crypto';
import type { Env } from '../lib/config/index.js';
import { validatePaths } from '../lib/manifest/index.js';
import {
  keyFingerprint,
  loadPublicKey,
  openArtifact,
  openSignatureRepository,
  verifyArtifact,
} from '../lib/sign/index.js';
import type { ApiHandlers, ServerCaches, VerifyBody } from './server.js';

const TAG_TTL_MS = 30_000;

export function libraryHandlers(env: Env): ApiHandlers {
  return {
    async validate({ paths, cwd }) {
      return validatePaths(paths, { cwd });
    },
    async verify(body: VerifyBody, caches: ServerCaches) {
      const keys = body.keys.map((pem, i) => loadPublicKey(pem, `keys[${i}]`));
      const fingerprints = keys.map(keyFingerprint).sort();
      const open = { env, plainHttp: body.plainHttp };
      const opened = await openArtifact(body.ref, open);
      const identity = body.identity ?? opened.identity;
      try {
        // tag → digest answers are kept a short time (tags move); digests are immutable.
        const tagKey = `${body.ref}`;
        let digest = opened.ref.digest ?? caches.tags.get(tagKey);
        const cacheKey = (d: string) =>
          createHash('sha256')
            .update(JSON.stringify([d, fingerprints, identity]))
            .digest('hex');
        if (digest) {
          const hit = caches.verified.get(cacheKey(digest));
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
        if (!opened.ref.digest) caches.tags.set(tagKey, digest, tagKey.length + digest.length, { ttlMs: TAG_TTL_MS });
        const answer = {
          digest,
          identity,
          verified: result.verified.map((v) => ({
            source: v.source,
            signer: v.signer,
            payload: v.payload.toString('utf8'),
          })),
        };
        caches.verified.set(cacheKey(digest), answer, JSON.stringify(answer).length + 256);
        return { ...answer, cached: false };
      } finally {
        await opened.target.close();
      }
    },
  };
}
