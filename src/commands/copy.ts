import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import {
  type ArtifactReference,
  type CopyResult,
  copyArtifact,
  formatReference,
  openTarget,
  parseReference,
  requireSelector,
  type Target,
} from '../lib/oci/index.js';
import { createProgress } from '../lib/oci/progress.js';
import { closeTarget, connectOptions, registryFlags } from '../lib/oci/registry/cli.js';

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
    const srcRef = parseReference(args.src, parseOptions);
    const dstRef = parseReference(args.dst, parseOptions);
    const selector = requireSelector(srcRef, 'copy');
    const dstTag = dstRef.tag ?? srcRef.tag;
    const warn = (message: string) => this.warnLine(message);
    const src = await openTarget(srcRef, { registry: connectOptions(flags, warn, { access: 'pull' }) });
    // A registry-to-registry copy on the same host can mount blobs instead of uploading them.
    const mountFrom =
      srcRef.kind === 'registry' && dstRef.kind === 'registry' && srcRef.registry === dstRef.registry
        ? [srcRef.repository]
        : undefined;
    const dst = await openTarget(dstRef, {
      registry: connectOptions(flags, () => undefined, { access: 'push', ...(mountFrom ? { mountFrom } : {}) }),
    });
    try {
      return await this.copy(args, flags, srcRef, dstRef, selector, dstTag, src, dst);
    } finally {
      await closeTarget(src);
      await closeTarget(dst);
    }
  }

  private async copy(
    args: { src: string; dst: string },
    flags: { referrers: boolean; concurrency: number; quiet: boolean },
    srcRef: ArtifactReference,
    dstRef: ArtifactReference,
    selector: string,
    dstTag: string | undefined,
    src: Target,
    dst: Target,
  ): Promise<CopyResultJson> {
    const descriptor = await src.resolve(selector);
    if (dstRef.digest !== undefined && dstRef.digest !== descriptor.digest) {
      throw new AionError('CI001', `${args.dst} pins ${dstRef.digest} but ${args.src} is ${descriptor.digest}`, {
        hint: 'drop the @digest from the destination',
      });
    }
    const progress = createProgress({ silent: flags.quiet || this.jsonEnabled(), verb: 'copied' });
    let result: CopyResult;
    try {
      result = await copyArtifact(src, descriptor, dst, dstTag, {
        referrers: flags.referrers,
        concurrency: flags.concurrency,
        onProgress: (e) => (e.kind === 'warning' ? this.warnLine(e.message) : progress.onProgress(e)),
      });
    } finally {
      await progress.finish();
    }
    const destination = formatReference({ ...dstRef, ...(dstTag ? { tag: dstTag } : {}) });
    this.diag(
      `copied ${formatReference(srcRef)} to ${destination}: ${result.blobsCopied} blobs (${result.bytesCopied} bytes), ${result.blobsSkipped} already there, ${result.referrers.length} referrers`,
    );
    this.log(result.descriptor.digest);
    return {
      source: formatReference(srcRef),
      destination,
      digest: result.descriptor.digest,
      mediaType: result.descriptor.mediaType,
      size: result.descriptor.size,
      blobsCopied: result.blobsCopied,
      blobsSkipped: result.blobsSkipped,
      bytesCopied: result.bytesCopied,
      referrers: result.referrers.map((r) => r.digest),
    };
  }
}
