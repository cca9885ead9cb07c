import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, createProgress, registryFlags } from '../lib/cli/index.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MONOLITHIC_MAX,
  formatReference,
  openTarget,
  parseReference,
  pushSource,
} from '../lib/oci/index.js';

export interface PushResultJson {
  ref: string;
  digest: string;
  size: number;
}

export default class Push extends BaseCommand {
  static override summary = 'Push a package (directory or stored artifact) to a registry or an OCI layout.';
  static override description = [
    'SOURCE is a package directory (validated and packed into the local store first) or a reference the local store, an oci: layout or a registry already holds. TARGET is HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG]; without a tag the source tag is used.',
    'Blobs the registry already has are skipped; blobs in another repository of the same registry are mounted instead of uploaded. Small blobs go up in one PUT, larger ones in PATCH chunks of --chunk-size. Credentials come from the Docker config (aionctl login, docker login, credential helpers). localhost and 127.0.0.1 use plain HTTP; other hosts HTTPS.',
    'Prints the pushed manifest digest.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> push ./my-agent localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> push my_agent:1.0.0 ghcr.io/acme/my-agent:1.0.0 --json',
    '<%= config.bin %> push ./my-agent oci:./export',
  ];
  static override args = {
    source: Args.string({
      description: 'Package directory, or a reference (NAME:TAG, oci:PATH:TAG, HOST/REPO:TAG).',
      required: true,
    }),
    target: Args.string({
      description: 'Destination: HOST[:PORT]/REPOSITORY[:TAG] or oci:PATH[:TAG].',
      required: true,
    }),
  };
  static override flags = {
    ...registryFlags,
    'chunk-size': Flags.integer({
      description: `Size in bytes of the PATCH chunks large blobs are streamed in (default ${DEFAULT_CHUNK_SIZE}); blobs up to ${DEFAULT_MONOLITHIC_MAX} bytes (or this size if smaller) go up in one PUT.`,
      min: 1024,
    }),
    concurrency: Flags.integer({ description: 'Parallel blob uploads.', default: 4, min: 1, max: 32 }),
    referrers: Flags.boolean({
      description: 'Also push referrers (signatures, SBOMs) of the artifact.',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<PushResultJson> {
    const { args, flags } = await this.parse(Push);
    const parse = { plainHttp: flags['plain-http'] };
    const targetRef = parseReference(args.target, parse);
    const env = process.env;
    const chunking = flags['chunk-size']
      ? { chunkSize: flags['chunk-size'], chunkThreshold: Math.min(flags['chunk-size'], DEFAULT_MONOLITHIC_MAX) }
      : {};
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'pushed' });
    try {
      const result = await pushSource(args.source, targetRef, {
        cwd: process.cwd(),
        env,
        parse,
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => progress.onProgress(e),
        open: (ref, role, plan) =>
          openTarget(ref, {
            env,
            registry:
              role === 'source'
                ? connectOptions(flags, (m) => this.warnLine(m))
                : {
                    ...connectOptions(flags, () => undefined),
                    access: 'push',
                    ...chunking,
                    ...(plan.mountFrom ? { mountFrom: plan.mountFrom } : {}),
                  },
          }),
      });
      await progress.finish();
      if (result.packed) this.diag(`packed ${args.source} as ${formatReference(result.packed.ref)}`);
      const ref = formatReference(result.ref);
      this.diag(`pushed ${ref}`);
      this.log(result.copy.descriptor.digest);
      return { ref, digest: result.copy.descriptor.digest, size: result.copy.descriptor.size };
    } finally {
      await progress.finish();
    }
  }
}
