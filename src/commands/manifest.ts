import { Args } from '@oclif/core';
import { BaseCommand, connectOptions, registryFlags } from '../lib/cli/index.js';
import { openTarget, parseReference, requireSelector } from '../lib/oci/index.js';

export interface ManifestResultJson {
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
  manifest: unknown;
}

export default class Manifest extends BaseCommand {
  static override summary = 'Print a manifest exactly as stored (raw bytes), digest-verified.';
  static override description =
    "Writes the manifest bytes unchanged to stdout, so `aionctl manifest REF | sha256sum` gives the digest. The bytes are checked against the digest (and the registry's Docker-Content-Digest) first. --json wraps it as {ref, digest, mediaType, size, manifest}.";
  static override examples = [
    '<%= config.bin %> manifest localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> manifest oci:./export:1.0.0 --json',
  ];
  static override args = {
    ref: Args.string({ description: 'HOST/REPOSITORY:TAG|@DIGEST, oci:PATH:TAG or NAME:TAG.', required: true }),
  };
  static override flags = { ...registryFlags };

  async run(): Promise<ManifestResultJson> {
    const { args, flags } = await this.parse(Manifest);
    const ref = parseReference(args.ref, { plainHttp: flags['plain-http'] });
    const selector = requireSelector(ref, 'manifest');
    const target = await openTarget(ref, {
      env: process.env,
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    });
    try {
      const { descriptor, bytes } = await target.fetchManifest(selector);
      if (!this.jsonEnabled()) process.stdout.write(bytes);
      return {
        ref: args.ref,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        manifest: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown,
      };
    } finally {
      await target.close();
    }
  }
}
