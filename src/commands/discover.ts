import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, registryFlags } from '../lib/cli/index.js';
import {
  type DiscoverResult,
  discoverReferrers,
  openTarget,
  parseReference,
  renderReferrerTree,
  requireSelector,
} from '../lib/oci/index.js';

export default class Discover extends BaseCommand {
  static override summary =
    'Show the referrers tree of an artifact (signatures, SBOMs, attestations), as oras discover.';
  static override description =
    "Lists the artifact's referrers (OCI referrers API, or the sha256-<hex> tag-schema fallback), grouped by artifactType, with the referrers of each referrer below it. cosign's tag-based attachments (sha256-<hex>.sig / .att / .sbom) are shown too, marked with their tag; --referrers-only leaves them out. REF may be a registry reference, a local store NAME:TAG or an oci:PATH:TAG layout.";
  static override examples = [
    '<%= config.bin %> discover localhost:5000/agents/summarize:1.3.0',
    '<%= config.bin %> discover summarize_text:1.3.0 --json',
    '<%= config.bin %> discover oci:./build/layout:latest --artifact-type application/spdx+json',
  ];
  static override args = {
    ref: Args.string({
      description: 'Artifact: HOST/REPOSITORY:TAG, NAME:TAG or oci:PATH:TAG (or @DIGEST).',
      required: true,
    }),
  };
  static override flags = {
    ...registryFlags,
    'artifact-type': Flags.string({ description: 'Only referrers of this artifactType (first level).' }),
    depth: Flags.integer({ description: 'How many levels of referrers of referrers to follow.', default: 8, min: 1 }),
    'referrers-only': Flags.boolean({ description: "Leave out cosign's tag-based attachments (.sig/.att/.sbom)." }),
  };

  async run(): Promise<DiscoverResult> {
    const { args, flags } = await this.parse(Discover);
    const ref = parseReference(args.ref, { plainHttp: flags['plain-http'] });
    const selector = requireSelector(ref, 'discover');
    const target = await openTarget(ref, {
      env: process.env,
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    });
    try {
      const result = await discoverReferrers(target, selector, {
        depth: flags.depth,
        referrersOnly: flags['referrers-only'],
        ...(flags['artifact-type'] !== undefined ? { artifactType: flags['artifact-type'] } : {}),
      });
      if (!this.jsonEnabled()) for (const line of renderReferrerTree(result)) this.log(line);
      return result;
    } finally {
      await target.close();
    }
  }
}
