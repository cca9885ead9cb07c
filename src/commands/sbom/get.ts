import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { AionError, isAionError } from '../../lib/errors/index.js';
import { writeFileAtomic } from '../../lib/fs/index.js';
import { getSbom, openArtifact } from '../../lib/sign/index.js';

export interface SbomGetResult {
  digest: string;
  mediaType: string;
  document: unknown;
}

export default class SbomGet extends BaseCommand {
  static override summary = 'Print (or save) the SBOM attached to an artifact.';
  static override description =
    "Finds the SBOM referrer of REF (or cosign's legacy sha256-<hex>.sbom attachment) and prints the document; RG032 (exit 4) when there is none.";
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
      const sbom = await getSbom(opened.target, opened.selector).catch((err: unknown) => {
        // Nothing attached is a lookup that found nothing (RG032), not a failed security check.
        if (isAionError(err) && err.code === 'ST012') {
          throw new AionError('RG032', err.message, { ...(err.hint ? { hint: err.hint } : {}) });
        }
        throw err;
      });
      if (flags.output) {
        await writeFileAtomic(flags.output, sbom.document);
        this.diag(`wrote ${sbom.mediaType} SBOM to ${flags.output}`);
      } else if (!this.jsonEnabled()) process.stdout.write(sbom.document);
      return { digest: sbom.digest, mediaType: sbom.mediaType, document: JSON.parse(sbom.document.toString('utf8')) };
    } finally {
      await opened.target.close();
    }
  }
}
