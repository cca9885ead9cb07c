import { basename, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, tagMovedLine } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import {
  ANNOTATIONS,
  type ArtifactReference,
  copyArtifact,
  extractPackage,
  formatReference,
  openStore,
  openTarget,
  parseReference,
  requireSelector,
} from '../lib/oci/index.js';
import { createProgress } from '../lib/oci/progress.js';
import { closeTarget, connectOptions, registryFlags } from '../lib/oci/registry/cli.js';
import { loadConfig, resolvePaths } from '../lib/config/index.js';
import { type PolicyVerification, verifyAgainstPolicy } from '../lib/sign/index.js';

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

/** The store name for a pulled artifact: --name, the registry repository, the package name, or the layout dir. */
function storeName(ref: ArtifactReference, annotations: Record<string, string> | undefined): string {
  if (ref.kind === 'registry' || ref.kind === 'store') return ref.repository;
  const fromPackage = annotations?.[ANNOTATIONS.packageName];
  if (fromPackage) return fromPackage;
  const dir = basename(resolve(ref.path))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
  return dir || 'package';
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
    const selector = requireSelector(ref, 'pull');
    const source = await openTarget(ref, { registry: connectOptions(flags, (m) => this.warnLine(m)) });
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'pulled' });
    try {
      const { descriptor, bytes } = await source.fetchManifest(selector);
      const annotations = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { annotations?: Record<string, string> })
        .annotations;
      let verified: PolicyVerification | null = null;
      if (flags['insecure-skip-verify']) {
        this.warnLine(`signature verification is OFF (--insecure-skip-verify): ${args.ref} is stored unverified`);
      } else {
        // Verify the exact digest about to be copied, so a tag moved in between cannot slip through.
        const paths = resolvePaths();
        const loaded = await loadConfig(process.cwd(), paths.config);
        verified = await verifyAgainstPolicy(source, { ...ref, digest: descriptor.digest }, loaded.config, {
          paths,
          baseDir: loaded.projectRoot,
        });
        this.diag(
          `verified ${descriptor.digest} (trust rule "${verified.rule.match}"${verified.cached ? ', cached' : ''})`,
        );
      }
      const name = flags.name ?? storeName(ref, annotations);
      const store = openStore(name);
      const tag = ref.tag;
      await copyArtifact(source, descriptor, store, tag, {
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => progress.onProgress(e),
      });
      await progress.finish();
      const storeRef = formatReference({ kind: 'store', repository: name, ...(tag ? { tag } : {}) });
      let files: PullResultJson['files'] = [];
      if (flags.output !== undefined) {
        // Extract from the store: its blobs are verified, and extractPackage refuses hostile titles.
        const extracted = await extractPackage(store, descriptor, resolve(flags.output));
        files = extracted.files.map((f) => ({ path: f.path, digest: f.digest, size: f.size }));
        this.diag(`wrote ${files.length} files to ${flags.output}`);
      }
      const pulled = formatReference({ ...ref, digest: descriptor.digest });
      this.diag(`pulled ${pulled} into the store as ${storeRef}`);
      const move = store.moves.at(-1);
      if (move) this.diag(tagMovedLine(storeRef, move.from.digest, move.to.digest));
      this.log(descriptor.digest);
      const moved = move ? { from: move.from.digest, to: move.to.digest } : null;
      return { ref: pulled, digest: descriptor.digest, store: storeRef, files, moved, verified };
    } catch (err) {
      await progress.finish();
      if (err instanceof SyntaxError) {
        throw new AionError('RG011', `the manifest of ${args.ref} is not valid JSON`, { cause: err });
      }
      throw err;
    } finally {
      await closeTarget(source);
    }
  }
}
