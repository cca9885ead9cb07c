import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, tagMovedLine } from '../lib/cli/index.js';
import { parseKeyValues } from '../lib/env/index.js';
import { formatReference, packDirectory, parseReference, type PackPlan, planPack } from '../lib/oci/index.js';

export interface PackResultJson {
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
  /** Set when the tag pointed at another digest before this pack. */
  moved: { from: string; to: string } | null;
}

export default class Pack extends BaseCommand {
  static override summary = 'Pack a package directory into an OCI artifact in the local store.';
  static override description = [
    'Validates the package (its aip.yaml), then stores it as an OCI image manifest with artifactType application/vnd.aionos.agent.v1: the aip.yaml as canonical JSON config, the wasm module as an application/vnd.wasm.content.layer.v1+wasm layer and every other file as a titled layer (see docs/oci.md).',
    'The result is reproducible: the same files give the same digest on any machine. No timestamp is recorded unless SOURCE_DATE_EPOCH is set or --created is given.',
    'By default the artifact goes into the local store (under $XDG_DATA_HOME/aionctl/store, or $AIONCTL_HOME/data/store) as NAME:VERSION from aip.yaml; --output oci:PATH[:TAG] writes an OCI image layout instead. Prints the manifest digest.',
    'Files left out: any path with a segment starting with "." (never packed), node_modules/, and what .aionctlignore (gitignore syntax; else .gitignore) at the package root excludes. aip.yaml, runtime.module and the schemas aip.yaml names are always packed. --dry-run lists what would go in.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> pack examples/summarize-wasm',
    '<%= config.bin %> pack . --tag 1.3.0-rc.1',
    '<%= config.bin %> pack . --output oci:./build/layout:latest --json',
    '<%= config.bin %> pack . --dry-run',
    'SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) <%= config.bin %> pack .',
  ];
  static override args = {
    dir: Args.string({ description: 'Package directory holding aip.yaml.', default: '.' }),
  };
  static override flags = {
    tag: Flags.string({
      char: 't',
      description: 'Tag (or NAME:TAG) to store the artifact as, instead of NAME:VERSION from aip.yaml.',
    }),
    output: Flags.string({
      char: 'o',
      description: 'Where to store the artifact: oci:PATH[:TAG] (an OCI image layout) or NAME[:TAG] in the store.',
    }),
    created: Flags.boolean({
      description: 'Record the current time as org.opencontainers.image.created (the digest then changes each run).',
    }),
    'dry-run': Flags.boolean({
      description: 'List the files that would be packed, with sizes, and write nothing (see .aionctlignore).',
    }),
    annotation: Flags.string({
      char: 'a',
      multiple: true,
      multipleNonGreedy: true,
      description: 'Extra manifest annotation KEY=VALUE (repeatable).',
    }),
  };

  async run(): Promise<PackResultJson | PackDryRunJson> {
    const { args, flags } = await this.parse(Pack);
    const dir = resolve(args.dir);
    if (flags['dry-run']) return this.dryRun(await planPack(dir));
    const result = await packDirectory(dir, {
      ...(flags.output !== undefined ? { output: parseReference(flags.output) } : {}),
      ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
      ...(flags.created ? { created: 'now' as const } : {}),
      annotations: parseKeyValues(flags.annotation, '--annotation'),
      env: process.env,
      cwd: process.cwd(),
    });
    const finalRef = formatReference(result.ref);
    this.diag(`packed ${result.artifact.info.name} ${result.artifact.info.version} as ${finalRef}`);
    const move = result.moved;
    if (move) this.diag(tagMovedLine(finalRef, move.from.digest, move.to.digest));
    this.log(result.descriptor.digest);
    return {
      moved: move ? { from: move.from.digest, to: move.to.digest } : null,
      ref: finalRef,
      digest: result.descriptor.digest,
      mediaType: result.descriptor.mediaType,
      size: result.descriptor.size,
    };
  }

  private dryRun(plan: PackPlan): PackDryRunJson {
    const files = plan.files.map((f) => ({ path: f.path, size: f.size, mode: f.executable ? '0755' : '0644' }));
    const width = Math.max(0, ...files.map((f) => String(f.size).length));
    for (const f of files) this.log(`${f.mode}  ${String(f.size).padStart(width)}  ${f.path}`);
    this.diag(
      `${files.length} file(s), ${plan.size} bytes; ignore rules from ${plan.ignoreFile ?? 'defaults only'} (dry run: nothing written)`,
    );
    return {
      name: plan.info.name,
      version: plan.info.version,
      ignoreFile: plan.ignoreFile ?? null,
      files,
      size: plan.size,
    };
  }
}

export interface PackDryRunJson {
  name: string;
  version: string;
  ignoreFile: string | null;
  files: { path: string; size: number; mode: string }[];
  size: number;
}
