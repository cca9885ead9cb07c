import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, createProgress, registryFlags } from '../lib/cli/index.js';
import { loadConfig, resolvePaths } from '../lib/config/index.js';
import {
  formatReference,
  openTarget,
  parseReference,
  pullArtifact,
  type PullOptions,
  requireSelector,
} from '../lib/oci/index.js';
import { type PolicyVerification, verifyAgainstPolicy } from '../lib/sign/index.js';

export interface PullResultJson {
  ref: string;
  digest: string;
  store: string;
  files: { path: string; digest: string; size: number }[];
  /** The trust-policy verification (null with --insecure-skip-verify). */
  verified: PolicyVerification | null;
}

export default class Pull extends BaseCommand {
  static override summary = 'Pull an artifact into the local store (verified); with -o also write its files.';
  static override description = [
    'REF is HOST[:PORT]/REPOSITORY:TAG (or @sha256:DIGEST), oci:PATH:TAG, or a store NAME:TAG. Every blob is checked against its digest while it streams and only verified content enters the store, so an interrupted or tampered download leaves nothing behind. Interrupted blob downloads resume with HTTP Range.',
    'Before anything is stored, the artifact is verified against the trust policy (`trust:` in .aionctl.yaml or the user config): a rule matching REGISTRY/REPOSITORY names the public keys that may sign it, and an artifact without a valid signature by one of them (or without an SBOM when the rule has requireSbom) is refused and quarantined (`aionctl quarantine ls`). --insecure-skip-verify is the only way around it.',
    'With -o DIR the package files (layers titled org.opencontainers.image.title) are written to DIR; titles with "..", absolute paths, or paths through symlinks are refused before anything is written.',
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
    let verify: PullOptions<PolicyVerification>['verify'];
    if (flags['insecure-skip-verify']) {
      this.warnLine(`signature verification is OFF (--insecure-skip-verify): ${args.ref} is stored unverified`);
    } else {
      const paths = resolvePaths(env);
      const loaded = await loadConfig(process.cwd(), paths.config);
      verify = (target, pinned) =>
        verifyAgainstPolicy(target, pinned, loaded.config, { paths, baseDir: loaded.projectRoot });
    }
    const source = await openTarget(ref, { env, registry: connectOptions(flags, (m) => this.warnLine(m)) });
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'pulled' });
    try {
      const result = await pullArtifact(source, ref, {
        ...(verify ? { verify } : {}),
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(extractTo !== undefined ? { extractTo } : {}),
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => progress.onProgress(e),
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
      this.log(descriptor.digest);
      return { ref: pulled, digest: descriptor.digest, store: storeRef, files, verified };
    } finally {
      await progress.finish();
      await source.close();
    }
  }
}
