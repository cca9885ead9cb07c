import { readFile } from 'node:fs/promises';
import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { fsError } from '../../lib/errors/index.js';
import { closeTarget } from '../../lib/oci/registry/cli.js';
import { type AttachedSbom, attachSbom, openArtifact } from '../../lib/sign/index.js';

export default class SbomAttach extends BaseCommand {
  static override summary = 'Attach an SPDX or CycloneDX JSON SBOM to an artifact as an OCI referrer.';
  static override description =
    'Resolves REF to its digest and pushes FILE as a referrer (artifactType application/spdx+json or application/vnd.cyclonedx+json, subject = the artifact); registries without the referrers API get the sha256-<hex> tag-schema index. Sign the artifact as usual; a trust rule with requireSbom: true refuses artifacts without one.';
  static override examples = ['<%= config.bin %> sbom attach registry.example/team/agent:1.0.0 sbom.spdx.json'];
  static override args = {
    ref: Args.string({ description: 'Artifact (tag or digest).', required: true }),
    file: Args.string({ description: 'SPDX or CycloneDX JSON document.', required: true }),
  };

  async run(): Promise<AttachedSbom> {
    const { args } = await this.parse(SbomAttach);
    let doc: Buffer;
    try {
      doc = await readFile(args.file);
    } catch (err) {
      throw fsError(err, args.file);
    }
    const opened = await openArtifact(args.ref);
    try {
      const result = await attachSbom(opened.target, opened.selector, doc);
      this.log(`attached ${result.mediaType} SBOM ${result.manifest} to ${opened.target.name}@${result.digest}`);
      return result;
    } finally {
      await closeTarget(opened.target);
    }
  }
}
