import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { writeFileAtomic } from '../../lib/fs/index.js';
import { closeTarget } from '../../lib/oci/registry/cli.js';
import { getSbom, openArtifact } from '../../lib/sign/index.js';

export interface SbomGetResult {
  digest: string;
  mediaType: string;
  document: unknown;
}

export default class SbomGet extends BaseCommand {
  static override summary = 'Print (or save) the SBOM attached to an artifact.';
  static override description =
    "Finds the SBOM referrer of REF (or cosign's legacy sha256-<hex>.sbom attachment) and prints the document; ST012 when there is none.";
  static override examples = [
    '<%= config.bin %> sbom get registry.example/team/agent:1.0.0 > sbom.json',
    '<%= config.bin %> sbom get acme/agent:1.0.0 --output sbom.json',
  ];
  static override args = { ref: Args.string({ description: 'Artifact (tag or digest).', required: true }) };
  static override flags = { output: Flags.string({ char: 'o', description: 'Write the document to this file.' }) };

  async run(): Promise<SbomGetResult> {
    const { args, flags } = await this.parse(SbomGet);
    const opened = await openArtifact(args.ref, { env: process.env });
    try {
      const sbom = await getSbom(opened.target, opened.selector);
      if (flags.output) {
        await writeFileAtomic(flags.output, sbom.document);
        this.diag(`wrote ${sbom.mediaType} SBOM to ${flags.output}`);
      } else if (!this.jsonEnabled()) process.stdout.write(sbom.document);
      return { digest: sbom.digest, mediaType: sbom.mediaType, document: JSON.parse(sbom.document.toString('utf8')) };
    } finally {
      await closeTarget(opened.target);
    }
  }
}
