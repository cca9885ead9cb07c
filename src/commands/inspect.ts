import { Args } from '@oclif/core';
import { BaseCommand, columns, connectOptions, humanSize, registryFlags } from '../lib/cli/index.js';
import { inspectArtifact, type InspectResult, openTarget, parseReference, requireSelector } from '../lib/oci/index.js';

export default class Inspect extends BaseCommand {
  static override summary = 'Show what an artifact holds: files, annotations, signatures, SBOMs and referrers.';
  static override description =
    'Reads only manifests (no layer is downloaded): the files with sizes and modes, the manifest annotations, the signatures present (cosign .sig tag layers and Sigstore bundle referrers; present, not verified: use aionctl verify), attached SBOMs and every referrer. REF may be a registry reference, a local store NAME:TAG or an oci:PATH:TAG layout.';
  static override examples = [
    '<%= config.bin %> inspect summarize_text:1.3.0',
    '<%= config.bin %> inspect localhost:5000/agents/summarize:1.3.0 --json',
    '<%= config.bin %> inspect oci:./build/layout:latest',
  ];
  static override args = {
    ref: Args.string({
      description: 'Artifact: HOST/REPOSITORY:TAG, NAME:TAG or oci:PATH:TAG (or @DIGEST).',
      required: true,
    }),
  };
  static override flags = { ...registryFlags };

  async run(): Promise<InspectResult> {
    const { args, flags } = await this.parse(Inspect);
    const ref = parseReference(args.ref, { plainHttp: flags['plain-http'] });
    const selector = requireSelector(ref, 'inspect');
    const target = await openTarget(ref, {
      env: process.env,
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    });
    try {
      const result = await inspectArtifact(target, selector);
      if (!this.jsonEnabled()) for (const line of render(result)) this.log(line);
      return result;
    } finally {
      await target.close();
    }
  }
}

function render(r: InspectResult): string[] {
  const lines = [
    `${r.target}@${r.digest}`,
    `  mediaType:    ${r.mediaType}`,
    `  artifactType: ${r.artifactType ?? '-'}`,
    `  size:         ${humanSize(r.size)} (${r.size} bytes)`,
  ];
  if (r.files.length > 0) {
    lines.push('', `Files (${r.files.length}):`);
    const rows = r.files.map((f) => [`  ${f.mode ?? '----'}`, String(f.size), f.path || `(untitled ${f.mediaType})`]);
    lines.push(
      ...columns(rows.map((row) => [row[0]!, row[1]!.padStart(Math.max(...rows.map((x) => x[1]!.length))), row[2]!])),
    );
  }
  if (r.manifests.length > 0) {
    lines.push('', `Manifests (${r.manifests.length}):`);
    for (const m of r.manifests) lines.push(`  ${m.digest}  ${m.mediaType}  ${m.size}`);
  }
  const annotations = Object.entries(r.annotations).sort(([a], [b]) => (a < b ? -1 : 1));
  lines.push('', `Annotations (${annotations.length}):`);
  for (const [k, v] of annotations) lines.push(`  ${k}: ${v}`);
  lines.push('', `Signatures (${r.signatures.length}, not verified here):`);
  for (const s of r.signatures)
    lines.push(s.kind === 'cosign' ? `  cosign  ${s.tag} (${s.manifest})` : `  bundle  ${s.manifest}`);
  lines.push('', `SBOMs (${r.sboms.length}):`);
  for (const s of r.sboms) lines.push(`  ${s.mediaType}  ${s.digest}  ${s.size} bytes`);
  lines.push('', `Referrers (${r.referrers.length}):`);
  for (const d of r.referrers) lines.push(`  ${d.digest}  ${d.artifactType ?? d.mediaType}`);
  return lines;
}
