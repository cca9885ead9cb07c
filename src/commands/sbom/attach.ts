import { readFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { fsError } from '../../lib/errors/index.js';
import { AionError } from '../../lib/errors/index.js';
import { type AttachedSbom, attachSbom, generateSpdx, openArtifact } from '../../lib/sign/index.js';

export default class SbomAttach extends BaseCommand {
  static override summary = 'Attach an SPDX or CycloneDX JSON SBOM to an artifact as an OCI referrer.';
  static override description =
    'Resolves REF to its digest and pushes FILE as a referrer (artifactType application/spdx+json or application/vnd.cyclonedx+json, subject = the artifact); registries without the referrers API get the sha256-<hex> tag-schema index. Sign the artifact as usual; a trust rule with requireSbom: true refuses artifacts without one.';
  static override examples = [
    '<%= config.bin %> sbom attach registry.example/team/agent:1.0.0 sbom.spdx.json',
    '<%= config.bin %> sbom attach acme/agent:1.0.0 --generate   # minimal SPDX listing the package files',
  ];
  static override flags = {
    generate: Flags.boolean({
      description:
        'Generate a minimal SPDX 2.3 document listing the package files and their sha256 digests (instead of FILE).',
    }),
  };
  static override args = {
    ref: Args.string({ description: 'Artifact (tag or digest).', required: true }),
    file: Args.string({ description: 'SPDX or CycloneDX JSON document (omit with --generate).' }),
  };

  async run(): Promise<AttachedSbom> {
    const { args, flags } = await this.parse(SbomAttach);
    if (flags.generate === (args.file !== undefined))
      throw new AionError('CI001', 'give either FILE or --generate', {
        hint: 'aionctl sbom attach REF sbom.spdx.json',
      });
    const opened = await openArtifact(args.ref);
    try {
      let doc: Buffer;
      if (args.file === undefined) doc = await generateSpdx(opened.target, opened.selector);
      else {
        try {
          doc = await readFile(args.file);
        } catch (err) {
          throw fsError(err, args.file);
        }
      }
      const result = await attachSbom(opened.target, opened.selector, doc);
      this.log(`attached ${result.mediaType} SBOM ${result.manifest} to ${opened.target.name}@${result.digest}`);
      return result;
    } finally {
      await opened.target.close();
    }
  }
}
