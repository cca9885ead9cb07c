/**
 * The trust policy: `trust: [{match, keys, requireSbom, allowUnboundBundles}]` in the user config and
 * .aionctl.yaml (merged by the config module: user rules first and authoritative). The first rule whose glob
 * matches the artifact's name (`registry/repository`, a store name, or `oci:/abs/path`) decides which keys may
 * sign it; no matching rule is a refusal (secure by default).
 *
 * Guarantees of `verify`: a quarantined digest is refused (ST013) before anything else, whatever signs it now;
 * every refusal is recorded in the quarantine; a signature counts only for the repository it names (classic
 * docker-reference, bundle statement subject `name`; bundles without one only with `allowUnboundBundles`); an
 * SBOM counts only when it parses as SPDX/CycloneDX and is signed by a key of the rule; cache hits are
 * HMAC-authenticated entries for the same digest, keys and identity.
 */
import type { KeyObject } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';
import type { AionConfig, AionPaths, TrustRule } from '../config/index.js';
import { AionError, isAionError } from '../errors/index.js';
import { formatReference, requireSelector } from '../oci/reference.js';
import type { ArtifactReference, ReadTarget } from '../oci/types.js';
import { openVerifiedCache, type VerifiedCache } from './cache.js';
import { defaultIdentity } from './cli-support.js';
import { resolveArtifact, verifyArtifact } from './engine.js';
import { type Env, keySource } from './key-source.js';
import { keyFingerprint } from './keys.js';
import { addToQuarantine, assertNotQuarantined } from './quarantine.js';
import { verifiedSboms } from './sbom.js';

export interface PolicyContext {
  paths: AionPaths;
  /** For env://VAR keys. */
  env: Env;
  /** Where relative key paths of rules without a `source` are anchored (default the user config dir). */
  baseDir?: string;
  /** Use the verified-digest cache (default true), or this cache. */
  cache?: boolean | VerifiedCache;
  /** Refuse quarantined digests and record refusals (default true). */
  quarantine?: boolean;
  /** With quarantine on: also record new refusals (default true; `verify` only asks, so it does not). */
  record?: boolean;
  /** Where `.sig` tags live ($COSIGN_REPOSITORY). */
  signatureTarget?: ReadTarget;
}

export interface PolicyVerification {
  digest: string;
  rule: TrustRule;
  cached: boolean;
  signer: string;
  /** Whether a signed SBOM is attached (null when the rule does not require one and it was not looked up). */
  sbom: boolean | null;
}

export interface PolicyVerifier {
  readonly rules: readonly TrustRule[];
  /** The rule deciding `ref`, if any. */
  ruleFor(ref: ArtifactReference): TrustRule | undefined;
  verify(target: ReadTarget, ref: ArtifactReference): Promise<PolicyVerification>;
}

/** The `trust` rules of a config (validated by the config module's schema). */
export function trustRules(config: AionConfig): TrustRule[] {
  const rules = config.trust ?? [];
  if (!Array.isArray(rules)) throw new AionError('CI004', 'trust must be a list of {match, keys} rules');
  return rules;
}

export function findTrustRule(rules: readonly TrustRule[], name: string): TrustRule | undefined {
  return rules.find((r) => picomatch(r.match, { dot: true })(name));
}

/** Builds the verifier once: rules checked once, each rule's keys loaded once on first use. */
export function createPolicyVerifier(config: AionConfig, context: PolicyContext): PolicyVerifier {
  const rules = trustRules(config);
  const matchers = rules.map((r) => picomatch(r.match, { dot: true }));
  const keyCache = new Map<TrustRule, Promise<KeyObject[]>>();
  const cache: VerifiedCache | undefined =
    context.cache === false
      ? undefined
      : typeof context.cache === 'object'
        ? context.cache
        : openVerifiedCache(context.paths);
  const quarantine = context.quarantine !== false;
  const baseDir = context.baseDir ?? context.paths.config;

  const keysOf = (rule: TrustRule): Promise<KeyObject[]> => {
    let loaded = keyCache.get(rule);
    if (!loaded) {
      loaded = Promise.all(
        rule.keys.map((k) =>
          keySource(k.startsWith('env://') || isAbsolute(k) ? k : join(baseDir, k), context.env).publicKey(),
        ),
      );
      keyCache.set(rule, loaded);
    }
    return loaded;
  };
  const ruleFor = (ref: ArtifactReference): TrustRule | undefined => {
    const name = defaultIdentity(ref);
    const i = matchers.findIndex((m) => m(name));
    return i < 0 ? undefined : rules[i];
  };

  return {
    rules,
    ruleFor,
    async verify(target, ref) {
      const name = defaultIdentity(ref);
      const shown = formatReference(ref);
      const selector = requireSelector(ref, 'a trust-policy check');
      const artifact = await resolveArtifact(target, selector);
      if (quarantine) await assertNotQuarantined(context.paths, artifact.digest);
      /** Records a refused artifact in the quarantine list and hands the error back to be thrown. */
      const refuse = async (err: AionError): Promise<AionError> => {
        if (quarantine && context.record !== false)
          await addToQuarantine(context.paths.data, {
            ref: shown,
            digest: artifact.digest,
            code: err.code,
            reason: err.message,
          });
        return err;
      };
      const rule = ruleFor(ref);
      if (!rule)
        throw await refuse(
          new AionError(
            'ST009',
            `no trust rule matches ${name}: refusing to use an artifact nobody is trusted to sign`,
            {
              hint: `add to .aionctl.yaml:\n  trust:\n    - match: "${name.replace(/\/[^/]*$/, '/*')}"\n      keys: [cosign.pub]\nor pass --insecure-skip-verify (not recommended)`,
            },
          ),
        );
      // Key problems are the configuration's, not the artifact's: not quarantined.
      const keys = await keysOf(rule);
      const fingerprints = keys.map(keyFingerprint);
      try {
        // Looked up only when the rule asks: an extra registry round trip otherwise wasted on every check.
        const sbomCheck = async (): Promise<boolean | null> => {
          if (!rule.requireSbom) return null;
          const found = await verifiedSboms(target, artifact, {
            keys,
            identity: name,
            signatureTarget: context.signatureTarget,
          });
          if (found.verified.length > 0) return true;
          if (found.problems.length > 0)
            throw new AionError(
              'ST024',
              `the trust rule "${rule.match}" requires a signed SBOM and none of the ${found.problems.length} attached to ${shown} counts: ${found.problems[0]}`,
              {
                hint: 'attach one signed by a key of the rule: `aionctl sbom attach REF sbom.spdx.json --key cosign.key`',
              },
            );
          throw new AionError('ST012', `the trust rule "${rule.match}" requires an SBOM and ${shown} has none`, {
            hint: 'attach one with `aionctl sbom attach REF sbom.spdx.json --key cosign.key`',
          });
        };
        const hit = await cache?.get(artifact.digest, fingerprints, name);
        if (hit) return { digest: artifact.digest, rule, cached: true, signer: hit.signer, sbom: await sbomCheck() };
        const result = await verifyArtifact(target, artifact.digest, {
          keys,
          expectedIdentity: name,
          signatureTarget: context.signatureTarget,
          bundleBinding: { name, allowUnbound: rule.allowUnboundBundles === true },
        });
        const signer = result.verified[0]?.signer ?? '';
        const sbom = await sbomCheck();
        await cache?.put({ digest: artifact.digest, fingerprints, identity: name, signer });
        return { digest: artifact.digest, rule, cached: false, signer, sbom };
      } catch (err) {
        if (isAionError(err) && err.code.startsWith('ST')) throw await refuse(err);
        throw err;
      }
    },
  };
}

/** Options of the one-shot wrapper (kept for callers that verify a single artifact). */
export interface PolicyOptions {
  paths: AionPaths;
  baseDir?: string;
  env?: Env;
  signatureTarget?: ReadTarget;
  /** Skip the verified-digest cache (bench, tests). */
  noCache?: boolean;
}

/**
 * Verifies the artifact `ref` names (read from `target`) against the trust policy: a thin wrapper over
 * createPolicyVerifier for one artifact. Throws ST013 (quarantined), ST009 (no rule), the verification error
 * (no trusted signature), ST012/ST024 (SBOM required and none / none signed).
 */
export async function verifyAgainstPolicy(
  target: ReadTarget,
  ref: ArtifactReference,
  config: AionConfig,
  options: PolicyOptions,
): Promise<PolicyVerification> {
  return createPolicyVerifier(config, {
    paths: options.paths,
    env: options.env ?? {},
    baseDir: options.baseDir,
    cache: !options.noCache,
    signatureTarget: options.signatureTarget,
  }).verify(target, ref);
}
