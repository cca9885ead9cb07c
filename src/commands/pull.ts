import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, createProgress, registryFlags, tagMovedLine } from '../lib/cli/index.js';
import { loadConfig, resolvePaths } from '../lib/config/index.js';
import {
  formatReference,
  openTarget,
  parseReference,
  pullArtifact,
  type PullOptions,
  requireSelector,
  type Target,
} from '../lib/oci/index.js';
import {
  assertNotQuarantined,
  openSignatureRepository,
  type PolicyVerification,
  PULL_REFERRER_POLICY,
  verifyAgainstPolicy,
} from '../lib/sign/index.js';

export interface PullResultJson {
  ref: string;
  digest: string;
  store: string;
  files: { path: string; digest: string; size: number }[];
  /** Set when the store tag pointed at another digest before this pull. */
  moved: { from: string; to: string } | null;
  /** The trust-policy verification (null with --insecure-skip-verify). */
  verified: PolicyVerification | null;
}

export default class Pull extends BaseCommand {
  static override summary = 'Pull an artifact into the local store (verified); with -o also write its files.';
  static override description = [
    'REF is HOST[:PORT]/REPOSITORY:TAG (or @sha256:DIGEST), oci:PATH:TAG, or a store NAME:TAG. Every blob is checked against its digest while it streams and only verified content enters the store, so an interrupted or tampered download leaves nothing behind. Interrupted blob downloads resume with HTTP Range.',
    'Before anything is stored, the artifact is verified against the trust policy (`trust:` in .aionctl.yaml or the user config): a rule matching REGISTRY/REPOSITORY names the public keys that may sign it, and an artifact without a valid signature by one of them (or without an SBOM when the rule has requireSbom) is refused and quarantined (`aionctl quarantine ls`). --insecure-skip-verify is the only way around it.',
    'With -o DIR the package files (layers titled org.opencontainers.image.title) are written to DIR; titles with "..", hidden segments (".git/..."), absolute paths, or paths through symlinks are refused before anything is written, and existing files are not replaced without --force. A quarantined digest (`aionctl quarantine ls`) is refused (ST013) even with --insecure-skip-verify until `aionctl quarantine rm`.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> pull localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> pull ghcr.io/acme/my-agent:1.0.0 -o ./my-agent --json',
    '<%= config.bin %> pull oci:./export:1.0.0 -o ./out',
  ];
  static override args = {
    ref: Args.string({ description: 'What to pull: HOST/REPOSITORY:TAG, oci:PATH:TAG or NAME:TAG.', required: true }),
  };
  static override flags = {
    ...registryFlags,
    output: Flags.string({ char: 'o', description: 'Also extract the package files into this directory.' }),
    name: Flags.string({
      description: 'Store the artifact under this NAME (default: the repository or package name).',
    }),
    concurrency: Flags.integer({ description: 'Parallel blob downloads.', default: 4, min: 1, max: 32 }),
    force: Flags.boolean({ description: 'With -o: replace files that already exist in the output directory.' }),
    'insecure-skip-verify': Flags.boolean({
      description: 'Do NOT verify signatures against the trust policy (unsafe: prints a warning).',
    }),
    referrers: Flags.boolean({
      description: 'Also pull referrers (signatures, SBOMs) of the artifact.',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<PullResultJson> {
    const { args, flags } = await this.parse(Pull);
    const ref = parseReference(args.ref, { plainHttp: flags['plain-http'] });
    requireSelector(ref, 'pull');
    const extractTo = flags.output === undefined ? undefined : resolve(flags.output);
    const env = process.env;
    const paths = resolvePaths(env);
    let verify: PullOptions<PolicyVerification | null>['verify'];
    let signatureTarget: Target | undefined;
    if (flags['insecure-skip-verify']) {
      this.warnLine(`signature verification is OFF (--insecure-skip-verify): ${args.ref} is stored unverified`);
      // Quarantine holds even without verification: only `aionctl quarantine rm` releases a digest.
      verify = async (_target, pinned) => {
        if (pinned.digest) await assertNotQuarantined(paths, pinned.digest);
        return null;
      };
    } else {
      const loaded = await loadConfig(process.cwd(), paths.config);
      for (const w of loaded.warnings) this.warnLine(w);
      // Verify the exact digest about to be copied, so a tag moved in between cannot slip through.
      // $COSIGN_REPOSITORY: signatures kept in another repository, as `sign` and `verify` use it.
      signatureTarget = await openSignatureRepository({
        env,
        plainHttp: flags['plain-http'],
        registry: connectOptions(flags, (m) => this.warnLine(m)),
      });
      const options = { paths, env, ...(signatureTarget ? { signatureTarget } : {}) };
      verify = (target, pinned) => verifyAgainstPolicy(target, pinned, loaded.config, options);
    }
    const source = await openTarget(ref, { env, registry: connectOptions(flags, (m) => this.warnLine(m)) });
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'pulled' });
    try {
      const result = await pullArtifact(source, ref, {
        verify,
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(extractTo !== undefined ? { extractTo } : {}),
        referrers: flags.referrers,
        referrerPolicy: PULL_REFERRER_POLICY,
        force: flags.force,
        concurrency: flags.concurrency,
        onProgress: (e) => (e.kind === 'warning' ? this.warnLine(e.message) : progress.onProgress(e)),
        env,
        cwd: process.cwd(),
      });
      await progress.finish();
      const { descriptor, verified } = result;
      if (verified) {
        this.diag(
          `verified ${descriptor.digest} (trust rule "${verified.rule.match}"${verified.cached ? ', cached' : ''})`,
        );
      }
      const files = result.files.map((f) => ({ path: f.path, digest: f.digest, size: f.size }));
      if (flags.output !== undefined) this.diag(`wrote ${files.length} files to ${flags.output}`);
      const pulled = formatReference(result.ref);
      const storeRef = formatReference(result.stored);
      this.diag(`pulled ${pulled} into the store as ${storeRef}`);
      if (result.moved) this.diag(tagMovedLine(storeRef, result.moved.from.digest, result.moved.to.digest));
      this.log(descriptor.digest);
      const moved = result.moved ? { from: result.moved.from.digest, to: result.moved.to.digest } : null;
      return { ref: pulled, digest: descriptor.digest, store: storeRef, files, moved, verified };
    } finally {
      await progress.finish();
      await source.close();
      await signatureTarget?.close();
    }
  }
}
