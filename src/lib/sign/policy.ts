/**
 * The trust policy: `trust: [{match, keys, requireSbom}]` in .aionctl.yaml / the user config. The first rule whose
 * glob matches the artifact's name (`registry/repository`, a store name, or `oci:/abs/path`) decides which keys
 * may sign it; no matching rule is a refusal (secure by default). Verified digests are cached, failures are
 * quarantined.
 */
import { isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';
import type { AionConfig, AionPaths, TrustRule } from '../config/index.js';
import { AionError, isAionError } from '../errors/index.js';
import { formatReference } from '../oci/reference.js';
import type { ArtifactReference, ReadTarget } from '../oci/types.js';
import { openVerifiedCache } from './cache.js';
import { defaultIdentity } from './cli-support.js';
import { resolveArtifact, verifyArtifact } from './engine.js';
import { type Env, keySource } from './key-source.js';
import { keyFingerprint } from './keys.js';
import { addToQuarantine } from './quarantine.js';
import { findSboms } from './sbom.js';

export interface PolicyOptions {
  paths: AionPaths;
  /** Where relative key paths in the rules are anchored (the project root, else the user config dir). */
  baseDir?: string;
  env?: Env;
  signatureTarget?: ReadTarget;
  /** Skip the verified-digest cache (bench, tests). */
  noCache?: boolean;
}

export interface PolicyVerification {
  digest: string;
  rule: TrustRule;
  cached: boolean;
  signer: string;
  /** Whether an SBOM is attached (null when the rule does not require one and it was not looked up). */
  sbom: boolean | null;
}

/** Checks the `trust` section's shape; CI004 for a malformed rule. */
export function trustRules(config: AionConfig): TrustRule[] {
  const rules = config.trust ?? [];
  if (!Array.isArray(rules)) throw new AionError('CI004', 'trust must be a list of {match, keys} rules');
  rules.forEach((r, i) => {
    if (!r || typeof r.match !== 'string' || r.match === '')
      throw new AionError('CI004', `trust[${i}].match must be a glob string`);
    if (!Array.isArray(r.keys) || r.keys.length === 0 || r.keys.some((k) => typeof k !== 'string'))
      throw new AionError('CI004', `trust[${i}].keys must be a non-empty list of key files or env://VAR`);
    if (r.requireSbom !== undefined && typeof r.requireSbom !== 'boolean')
      throw new AionError('CI004', `trust[${i}].requireSbom must be true or false`);
  });
  return rules;
}

export function findTrustRule(rules: TrustRule[], name: string): TrustRule | undefined {
  return rules.find((r) => picomatch(r.match, { dot: true })(name));
}

/**
 * Verifies the artifact `ref` names (read from `target`) against the trust policy. Throws ST009 when no rule
 * matches, the verification error when no trusted key signed it (after quarantining it), ST012 when the rule
 * requires an SBOM and there is none.
 */
export async function verifyAgainstPolicy(
  target: ReadTarget,
  ref: ArtifactReference,
  config: AionConfig,
  options: PolicyOptions,
): Promise<PolicyVerification> {
  const name = defaultIdentity(ref);
  const rule = findTrustRule(trustRules(config), name);
  const shown = formatReference(ref);
  const selector = ref.digest ?? ref.tag;
  if (!selector) throw new AionError('RG020', `${shown} names no tag or digest`);
  if (!rule)
    throw new AionError(
      'ST009',
      `no trust rule matches ${name}: refusing to use an artifact nobody is trusted to sign`,
      {
        hint: `add to .aionctl.yaml:\n  trust:\n    - match: "${name.replace(/\/[^/]*$/, '/*')}"\n      keys: [cosign.pub]\nor pass --insecure-skip-verify (not recommended)`,
      },
    );
  const baseDir = options.baseDir ?? options.paths.config;
  const keys = [];
  for (const k of rule.keys) {
    const path = k.startsWith('env://') || isAbsolute(k) ? k : join(baseDir, k);
    keys.push(await keySource(path, options.env ?? process.env).publicKey());
  }
  const fingerprints = keys.map(keyFingerprint);
  const artifact = await resolveArtifact(target, selector);
  const cache = openVerifiedCache(options.paths.cache);
  /** Records a refused artifact in the quarantine list and hands the error back to be thrown. */
  const quarantined = async (err: AionError): Promise<AionError> => {
    await addToQuarantine(options.paths.data, {
      ref: shown,
      digest: artifact.digest,
      code: err.code,
      reason: err.message,
    });
    return err;
  };
  // Looked up only when the rule asks: an extra registry round trip otherwise wasted on every check.
  const sbomCheck = async (): Promise<boolean | null> => {
    if (!rule.requireSbom) return null;
    const present = (await findSboms(target, artifact)).length > 0;
    if (!present) {
      throw await quarantined(
        new AionError('ST012', `the trust rule "${rule.match}" requires an SBOM and ${shown} has none`, {
          hint: 'attach one with `aionctl sbom attach REF sbom.spdx.json`',
        }),
      );
    }
    return present;
  };
  if (!options.noCache) {
    const hit = await cache.get(artifact.digest, fingerprints, name);
    if (hit) return { digest: artifact.digest, rule, cached: true, signer: hit.signer, sbom: await sbomCheck() };
  }
  try {
    const result = await verifyArtifact(target, artifact.digest, {
      keys,
      expectedIdentity: name,
      signatureTarget: options.signatureTarget,
    });
    const signer = result.verified[0]?.signer ?? '';
    const sbom = await sbomCheck();
    await cache.put({ digest: artifact.digest, fingerprints, identity: name, signer });
    return { digest: artifact.digest, rule, cached: false, signer, sbom };
  } catch (err) {
    // ST012 was quarantined where it was raised; other security failures are recorded here.
    if (isAionError(err) && err.code.startsWith('ST') && err.code !== 'ST012') throw await quarantined(err);
    throw err;
  }
}
