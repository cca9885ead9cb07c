// `aionctl pull`: its flags (plain data) and its run, shared by the oclif command and the start-up fast path.
import { resolve } from 'node:path';
import { loadConfig, resolvePaths } from '../../config/index.js';
import {
  formatReference,
  openTarget,
  parseReference,
  pullArtifact,
  type PullOptions,
  requireSelector,
  type Target,
} from '../../oci/index.js';
import {
  assertNotQuarantined,
  openSignatureRepository,
  type PolicyVerification,
  PULL_REFERRER_POLICY,
  verifyAgainstPolicy,
} from '../../sign/index.js';
import { connectOptions, registryFlagSpecs } from '../connect.js';
import { tagMovedLine } from '../format.js';
import type { CommandIo } from '../io.js';
import { createProgress } from '../progress.js';
import type { CommandSpec, FlagSpec, ParsedArgv, SpecValues } from '../spec.js';

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

const pullFlags = {
  ...registryFlagSpecs,
  output: { type: 'string', char: 'o', description: 'Also extract the package files into this directory.' },
  name: {
    type: 'string',
    description: 'Store the artifact under this NAME (default: the repository or package name).',
  },
  concurrency: { type: 'integer', description: 'Parallel blob downloads.', default: 4, min: 1, max: 32 },
  force: { type: 'boolean', description: 'With -o: replace files that already exist in the output directory.' },
  'insecure-skip-verify': {
    type: 'boolean',
    description: 'Do NOT verify signatures against the trust policy (unsafe: prints a warning).',
  },
  referrers: {
    type: 'boolean',
    description: 'Also pull referrers (signatures, SBOMs) of the artifact.',
    default: true,
    allowNo: true,
  },
} satisfies Record<string, FlagSpec>;

export const pullSpec = {
  flags: pullFlags,
  args: {
    ref: { description: 'What to pull: HOST/REPOSITORY:TAG, oci:PATH:TAG or NAME:TAG.', required: true },
  },
  strict: true,
} satisfies CommandSpec;

export async function runPullCommand(io: CommandIo, parsed: ParsedArgv): Promise<PullResultJson> {
  const flags = parsed.flags as SpecValues<typeof pullFlags>;
  const refText = parsed.args.ref!;
  const ref = parseReference(refText, { plainHttp: flags['plain-http'] });
  requireSelector(ref, 'pull');
  const extractTo = flags.output === undefined ? undefined : resolve(flags.output);
  const env = process.env;
  const paths = resolvePaths(env);
  let verify: PullOptions<PolicyVerification | null>['verify'];
  let signatureTarget: Target | undefined;
  if (flags['insecure-skip-verify']) {
    io.warnLine(`signature verification is OFF (--insecure-skip-verify): ${refText} is stored unverified`);
    // Quarantine holds even without verification: only `aionctl quarantine rm` releases a digest.
    verify = async (_target, pinned) => {
      if (pinned.digest) await assertNotQuarantined(paths, pinned.digest);
      return null;
    };
  } else {
    const loaded = await loadConfig(process.cwd(), paths.config);
    for (const w of loaded.warnings) io.warnLine(w);
    // Verify the exact digest about to be copied, so a tag moved in between cannot slip through.
    // $COSIGN_REPOSITORY: signatures kept in another repository, as `sign` and `verify` use it.
    signatureTarget = await openSignatureRepository({
      env,
      plainHttp: flags['plain-http'],
      registry: connectOptions(flags, (m) => io.warnLine(m)),
    });
    const options = { paths, env, ...(signatureTarget ? { signatureTarget } : {}) };
    verify = (target, pinned) => verifyAgainstPolicy(target, pinned, loaded.config, options);
  }
  const source = await openTarget(ref, { env, registry: connectOptions(flags, (m) => io.warnLine(m)) });
  const progress = createProgress({ silent: flags.quiet || io.jsonEnabled(), verb: 'pulled' });
  try {
    const result = await pullArtifact(source, ref, {
      verify,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(extractTo !== undefined ? { extractTo } : {}),
      referrers: flags.referrers,
      referrerPolicy: PULL_REFERRER_POLICY,
      force: flags.force,
      concurrency: flags.concurrency,
      onProgress: (e) => (e.kind === 'warning' ? io.warnLine(e.message) : progress.onProgress(e)),
      env,
      cwd: process.cwd(),
    });
    await progress.finish();
    const { descriptor, verified } = result;
    if (verified) {
      io.diag(
        `verified ${descriptor.digest} (trust rule "${verified.rule.match}"${verified.cached ? ', cached' : ''})`,
      );
    }
    const files = result.files.map((f) => ({ path: f.path, digest: f.digest, size: f.size }));
    if (flags.output !== undefined) io.diag(`wrote ${files.length} files to ${flags.output}`);
    const pulled = formatReference(result.ref);
    const storeRef = formatReference(result.stored);
    io.diag(`pulled ${pulled} into the store as ${storeRef}`);
    if (result.moved) io.diag(tagMovedLine(storeRef, result.moved.from.digest, result.moved.to.digest));
    io.log(descriptor.digest);
    const moved = result.moved ? { from: result.moved.from.digest, to: result.moved.to.digest } : null;
    return { ref: pulled, digest: descriptor.digest, store: storeRef, files, moved, verified };
  } finally {
    await progress.finish();
    await source.close();
    await signatureTarget?.close();
  }
}
