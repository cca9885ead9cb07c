import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import {
  BaseCommand,
  connectOptions,
  cosignArgv,
  cosignVerifyFlags,
  registryFlags,
  wantsJsonOutput,
} from '../lib/cli/index.js';
import { loadConfig, resolvePaths } from '../lib/config/index.js';
import {
  createPolicyVerifier,
  loadVerifyOptions,
  type OpenArtifactOptions,
  openArtifact,
  openSignatureRepository,
  type PolicyVerification,
  verifyArtifact,
} from '../lib/sign/index.js';
import { AionError } from '../lib/errors/index.js';

export default class Verify extends BaseCommand {
  static override summary = 'Verify the signatures of an artifact; succeeds when at least one verifies.';
  static override description = `Finds every signature of REF: the classic cosign .sig tag (same repository or $COSIGN_REPOSITORY) and Sigstore bundle referrers (referrers API or the sha256-<hex> tag-schema fallback). Each is checked: the signature over the exact payload with --key, the payload's docker-manifest-digest against the artifact's digest, its docker-reference against the expected identity (--identity; default the repository of REF: a repository matches any tag, repository:tag matches exactly), its size, and unknown "critical" fields. The verified payloads are printed; --json prints them as a JSON array, the shape of \`cosign verify --output json\`.

Keyless and private-CA classic signatures verify offline with --ca-roots (Fulcio CA or your CA), --certificate-identity / --certificate-oidc-issuer, and --rekor-key to require and check the Rekor SET. Keyless bundles verify with --trusted-root (a Sigstore trusted_root.json). Key bundles verify with --key alone: their transparency-log entries and timestamps are then not checked (like cosign --insecure-ignore-tlog).

Without --key, --ca-roots or --trusted-root, REF is checked against the trust policy in effect (\`trust:\` in config.yaml and .aionctl.yaml, see \`aionctl config\`): the CI question "is this allowed here?". Quarantined digests are refused (ST013); nothing is recorded.

Exit codes: 0 verified; 6 (ST) when nothing verified, with the code naming why: ST001 no signatures, ST002 bad signature / wrong key, ST003 digest mismatch, ST004 identity mismatch, ST005 malformed, ST006 unsupported format, ST010 certificate, ST011 Rekor SET, ST015 a required -a annotation is missing.`;
  static override examples = [
    '<%= config.bin %> verify registry.example/team/agent:1.0.0 --key cosign.pub',
    '<%= config.bin %> verify mirror.example/team/agent:1.0.0 --key cosign.pub --identity registry.example/team/agent',
    '<%= config.bin %> verify acme/agent:1.0.0 --key cosign.pub --json',
    '<%= config.bin %> verify registry.example/team/agent:1.0.0   # against the trust policy',
    '<%= config.bin %> verify --lockfile aionctl.lock',
    '<%= config.bin %> verify r.example/app@sha256:... --ca-roots fulcio.pem --certificate-identity me@example.com --certificate-oidc-issuer https://github.com/login/oauth --rekor-key rekor.pub',
  ];
  static override args = { ref: Args.string({ description: 'Artifact to verify (tag or digest).' }) };
  static override flags = {
    ...registryFlags,
    ...cosignVerifyFlags,
    lockfile: Flags.string({
      description: 'Re-verify every digest of this aionctl.lock against the trust policy (instead of REF and --key).',
      exclusive: ['key'],
    }),
    key: Flags.string({
      description: 'Public key: a cosign.pub file or env://VAR (repeatable: any may match).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    annotations: Flags.string({
      char: 'a',
      description: 'key=value the signed payload\'s "optional" section must contain (repeatable; as cosign -a).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    identity: Flags.string({
      description: 'Identity the payload must name: REPOSITORY (any tag) or REPOSITORY:TAG (exact).',
    }),
    'ca-roots': Flags.string({
      description: 'PEM file of trusted root certificates for certificate signatures (Fulcio CA or a private CA).',
    }),
    'ca-intermediates': Flags.string({ description: 'PEM file of extra intermediate certificates.' }),
    'certificate-identity': Flags.string({
      description: 'SAN (email, URI or DNS name) the certificate must carry (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'certificate-oidc-issuer': Flags.string({ description: 'OIDC issuer the Fulcio certificate must name.' }),
    'rekor-key': Flags.string({
      description: 'Rekor public key: require a Rekor SET on the signature and verify it offline.',
    }),
    'trusted-root': Flags.string({ description: 'Sigstore trusted_root.json for verifying keyless bundles offline.' }),
  };

  /** Without --key: "is this allowed here?" under the trust policy in effect (nothing is recorded). */
  private async againstPolicy(reference: string, open: OpenArtifactOptions): Promise<PolicyVerification> {
    const paths = resolvePaths(process.env);
    const loaded = await loadConfig(process.cwd(), paths.config);
    for (const w of loaded.warnings) this.warnLine(w);
    const opened = await openArtifact(reference, open);
    const signatureTarget = await openSignatureRepository(open);
    try {
      const verifier = createPolicyVerifier(loaded.config, { paths, env: process.env, record: false, signatureTarget });
      const result = await verifier.verify(opened.target, opened.ref);
      this.log(
        `${opened.identity}@${result.digest}: allowed by trust rule "${result.rule.match}" (${result.rule.source ?? 'config'}), signed by ${result.signer}`,
      );
      return result;
    } finally {
      await opened.target.close();
      if (signatureTarget) await signatureTarget.close();
    }
  }

  override jsonEnabled(): boolean {
    return super.jsonEnabled() || wantsJsonOutput(this.argv);
  }

  async run(): Promise<unknown> {
    this.argv = cosignArgv(this.argv);
    const { args, flags } = await this.parse(Verify);
    if (flags.lockfile !== undefined) {
      const { verifyLockfile } = await import('../lib/install/index.js');
      const results = await verifyLockfile({
        cwd: process.cwd(),
        env: process.env,
        paths: resolvePaths(process.env),
        lockfile: resolve(flags.lockfile),
        registry: connectOptions(flags, (m) => this.warnLine(m)),
      });
      for (const r of results) this.log(`verified ${r.name}@${r.version} ${r.digest} (${r.signer})`);
      return results;
    }
    if (args.ref === undefined)
      throw new AionError('CI001', 'nothing to verify: give REF (or --lockfile aionctl.lock)', {
        hint: 'see: aionctl verify --help',
      });
    const open = {
      env: process.env,
      plainHttp: flags['plain-http'],
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    };
    // No key material given: the CI question "is this allowed here?" under the trust policy.
    if (!flags.key?.length && !flags['ca-roots'] && !flags['trusted-root']) return this.againstPolicy(args.ref, open);
    const options = await loadVerifyOptions(
      {
        ...(flags.key ? { keys: flags.key } : {}),
        ...(flags.annotations ? { annotations: flags.annotations } : {}),
        ...(flags['rekor-key'] ? { rekorKey: flags['rekor-key'] } : {}),
        ...(flags['ca-roots'] ? { caRoots: flags['ca-roots'] } : {}),
        ...(flags['ca-intermediates'] ? { caIntermediates: flags['ca-intermediates'] } : {}),
        ...(flags['certificate-identity'] ? { certificateIdentities: flags['certificate-identity'] } : {}),
        ...(flags['certificate-oidc-issuer'] ? { certificateOidcIssuer: flags['certificate-oidc-issuer'] } : {}),
        ...(flags['trusted-root'] ? { trustedRoot: flags['trusted-root'] } : {}),
        cwd: process.cwd(),
      },
      process.env,
    );
    const opened = await openArtifact(args.ref, open);
    options.signatureTarget = await openSignatureRepository(open);
    options.expectedIdentity = flags.identity ?? opened.identity;
    const result = await verifyArtifact(opened.target, opened.selector, options).finally(async () => {
      await opened.target.close();
      if (options.signatureTarget) await options.signatureTarget.close();
    });
    this.diag(`Verification for ${opened.target.name}@${result.digest} --`);
    this.diag('The following checks were performed on each of these signatures:');
    this.diag('  - The signature was verified against the given key(s) or certificate roots');
    this.diag(`  - The signed digest is ${result.digest}`);
    this.diag(`  - The signed identity matches ${options.expectedIdentity} (classic signatures)`);
    for (const v of result.verified) this.diag(`verified: ${v.source} #${v.index} signed by ${v.signer}`);
    for (const v of result.verified) this.log(v.payload.toString('utf8'));
    return result.verified.map((v) => {
      try {
        return JSON.parse(v.payload.toString('utf8'));
      } catch {
        return v.payload.toString('base64');
      }
    });
  }
}
