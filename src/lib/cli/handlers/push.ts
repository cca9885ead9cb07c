// `aionctl push`: its flags (plain data) and its run, shared by the oclif command and the start-up fast path.
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_MAX,
  formatReference,
  openTarget,
  parseReference,
  pushSource,
} from '../../oci/index.js';
import { connectOptions, registryFlagSpecs } from '../connect.js';
import type { CommandIo } from '../io.js';
import { createProgress } from '../progress.js';
import type { CommandSpec, FlagSpec, ParsedArgv, SpecValues } from '../spec.js';

export interface PushResultJson {
  ref: string;
  digest: string;
  size: number;
}

const pushFlags = {
  ...registryFlagSpecs,
  'chunk-size': {
    type: 'integer',
    description: `Size in bytes of the PATCH chunks large blobs are streamed in (default ${DEFAULT_CHUNK_SIZE}); blobs up to ${DEFAULT_MONOLITHIC_MAX} bytes (or this size if smaller) go up in one PUT.`,
    min: 1024,
  },
  concurrency: { type: 'integer', description: 'Parallel blob uploads.', default: 4, min: 1, max: 32 },
  referrers: {
    type: 'boolean',
    description: 'Also push referrers (signatures, SBOMs) of the artifact.',
    default: true,
    allowNo: true,
  },
} satisfies Record<string, FlagSpec>;

export const pushSpec = {
  flags: pushFlags,
  args: {
    source: {
      description: 'Package directory, or a reference (NAME:TAG, oci:PATH:TAG, HOST/REPO:TAG).',
      required: true,
    },
    target: { description: 'Destination: HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG].', required: true },
  },
  strict: true,
} satisfies CommandSpec;

export async function runPushCommand(io: CommandIo, parsed: ParsedArgv): Promise<PushResultJson> {
  const flags = parsed.flags as SpecValues<typeof pushFlags>;
  const source = parsed.args.source!;
  const parse = { plainHttp: flags['plain-http'] };
  const targetRef = parseReference(parsed.args.target!, parse);
  const env = process.env;
  const chunking = flags['chunk-size']
    ? { chunkSize: flags['chunk-size'], chunkThreshold: Math.min(flags['chunk-size'], DEFAULT_MONOLITHIC_MAX) }
    : {};
  const progress = createProgress({ silent: flags.quiet || io.jsonEnabled(), verb: 'pushed' });
  try {
    const result = await pushSource(source, targetRef, {
      cwd: process.cwd(),
      env,
      parse,
      referrers: flags.referrers,
      concurrency: flags.concurrency,
      onProgress: (e) => (e.kind === 'warning' ? io.warnLine(e.message) : progress.onProgress(e)),
      open: (ref, role, plan) =>
        openTarget(ref, {
          env,
          registry:
            role === 'source'
              ? connectOptions(flags, (m) => io.warnLine(m))
              : {
                  ...connectOptions(flags, () => undefined),
                  access: 'push',
                  ...chunking,
                  ...(plan.mountFrom ? { mountFrom: plan.mountFrom } : {}),
                },
        }),
    });
    await progress.finish();
    if (result.packed) io.diag(`packed ${source} as ${formatReference(result.packed.ref)}`);
    const ref = formatReference(result.ref);
    io.diag(`pushed ${ref}`);
    io.log(result.copy.descriptor.digest);
    return { ref, digest: result.copy.descriptor.digest, size: result.copy.descriptor.size };
  } finally {
    await progress.finish();
  }
}
