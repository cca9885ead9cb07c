import { readFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, readPassword } from '../../lib/cli/index.js';
import { fsError } from '../../lib/errors/index.js';
import { AionError } from '../../lib/errors/index.js';
import {
  type AttachedSbom,
  attachSbom,
  generateSpdx,
  keySource,
  openArtifact,
  signArtifact,
} from '../../lib/sign/index.js';

export default class SbomAttach extends BaseCommand {
  static override summary = 'Attach an SPDX or CycloneDX JSON SBOM to an artifact as an OCI referrer.';
  static override description =
    'Resolves REF to its digest and pushes FILE as a referrer (artifactType application/spdx+json or application/vnd.cyclonedx+json, subject = the artifact); registries without the referrers API get the sha256-<hex> tag-schema index. With --key the SBOM manifest is also signed (a classic cosign signature on its digest): a trust rule with requireSbom: true counts only an SBOM that parses as SPDX/CycloneDX and is signed by one of the rule keys.';
  static override examples = [
    '<%= config.bin %> sbom attach registry.example/team/agent:1.0.0 sbom.spdx.json --key cosign.key',
    '<%= config.bin %> sbom attach acme/agent:1.0.0 --generate   # minimal SPDX listing the package files',
  ];
  static override flags = {
    key: Flags.string({
      description:
        'Also sign the SBOM with this private key (cosign.key or env://VAR): a trust rule with requireSbom counts only SBOMs signed by one of its keys.',
    }),
    generate: Flags.boolean({
      description:
        'Generate a minimal SPDX 2.3 document listing the package files and their sha256 digests (instead of FILE).',
    }),
  };
  static override args = {
    ref: Args.string({ description: 'Artifact (tag or digest).', required: true }),
    file: Args.string({ description: 'SPDX or CycloneDX JSON document (omit with --generate).' }),
  };

  async run(): Promise<AttachedSbom & { signed?: boolean }> {
    const { args, flags } = await this.parse(SbomAttach);
    if (flags.generate === (args.file !== undefined))
      throw new AionError('CI001', 'give either FILE or --generate', {
        hint: 'aionctl sbom attach REF sbom.spdx.json',
      });
    const signer = flags.key
      ? await keySource(flags.key, process.env).signer(() => readPassword(process.env))
      : undefined;
    const opened = await openArtifact(args.ref, { env: process.env });
    try {
      let doc: Buffer;
      if (args.file === undefined) doc = await generateSpdx(opened.target, opened.selector, process.env);
      else {
        try {
          doc = await readFile(args.file);
        } catch (err) {
          throw fsError(err, args.file);
        }
      }
      const result = await attachSbom(opened.target, opened.selector, doc);
      this.log(`attached ${result.mediaType} SBOM ${result.manifest} to ${opened.target.name}@${result.digest}`);
      if (!signer) return result;
      const signed = await signArtifact(opened.target, result.manifest, { signer, identity: opened.identity });
      this.log(`signed the SBOM ${result.manifest} (${signed.signatureTag})`);
      return { ...result, signed: true };
    } finally {
      await opened.target.close();
    }
  }
}
