import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, createProgress, registryFlags } from '../lib/cli/index.js';
import { formatReference, openTarget, parseReference, planCopy, transfer } from '../lib/oci/index.js';

export interface CopyResultJson {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  size: number;
  blobsCopied: number;
  blobsSkipped: number;
  bytesCopied: number;
  referrers: string[];
}

export default class Copy extends BaseCommand {
  static override summary = 'Copy an artifact between the local store, OCI layouts and registries.';
  static override description = [
    'SRC and DST are each one of: NAME:TAG (the local store), oci:PATH:TAG (an OCI image layout directory), or HOST/REPOSITORY:TAG (a registry). The whole manifest graph is copied and every blob is verified against its digest while it streams; blobs the destination already has are skipped.',
    'Referrers (signatures, SBOMs, attestations, and cosign sha256-<hex>.sig tags) travel with the artifact unless --no-referrers is given.',
    'Without a tag on DST the source tag is reused; a source given by digest only is copied untagged unless DST names a tag.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> copy summarize_text:1.3.0 oci:./export:1.3.0',
    '<%= config.bin %> copy oci:./export:1.3.0 summarize_text:1.3.0 --json',
    '<%= config.bin %> copy summarize_text:1.3.0 127.0.0.1:5000/agents/summarize_text:1.3.0',
  ];
  static override args = {
    src: Args.string({ description: 'Source reference (store NAME:TAG, oci:PATH:TAG or registry).', required: true }),
    dst: Args.string({
      description: 'Destination reference (store NAME[:TAG], oci:PATH[:TAG] or registry).',
      required: true,
    }),
  };
  static override flags = {
    referrers: Flags.boolean({
      description: 'Copy referrers (signatures, SBOMs) along with the artifact.',
      default: true,
      allowNo: true,
    }),
    concurrency: Flags.integer({ description: 'Parallel blob transfers.', default: 4, min: 1, max: 32 }),
    ...registryFlags,
  };

  async run(): Promise<CopyResultJson> {
    const { args, flags } = await this.parse(Copy);
    const parseOptions = { plainHttp: flags['plain-http'] };
    const plan = planCopy(parseReference(args.src, parseOptions), parseReference(args.dst, parseOptions));
    const env = process.env;
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'copied' });
    try {
      const result = await transfer(plan, {
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => progress.onProgress(e),
        open: (ref, role) =>
          openTarget(ref, {
            env,
            registry:
              role === 'source'
                ? connectOptions(flags, (m) => this.warnLine(m), { access: 'pull' })
                : connectOptions(flags, () => undefined, {
                    access: 'push',
                    ...(plan.mountFrom ? { mountFrom: plan.mountFrom } : {}),
                  }),
          }),
      });
      await progress.finish();
      const source = formatReference(plan.source);
      const destination = formatReference({ ...plan.destination, ...(plan.tag ? { tag: plan.tag } : {}) });
      this.diag(
        `copied ${source} to ${destination}: ${result.blobsCopied} blobs (${result.bytesCopied} bytes), ${result.blobsSkipped} already there, ${result.referrers.length} referrers`,
      );
      this.log(result.descriptor.digest);
      return {
        source,
        destination,
        digest: result.descriptor.digest,
        mediaType: result.descriptor.mediaType,
        size: result.descriptor.size,
        blobsCopied: result.blobsCopied,
        blobsSkipped: result.blobsSkipped,
        bytesCopied: result.bytesCopied,
        referrers: result.referrers.map((r) => r.digest),
      };
    } finally {
      await progress.finish();
    }
  }
}
