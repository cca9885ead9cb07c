import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { parseKeyValues } from '../lib/env/index.js';
import { formatReference, packDirectory, parseReference } from '../lib/oci/index.js';

export interface PackResultJson {
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
}

export default class Pack extends BaseCommand {
  static override summary = 'Pack a package directory into an OCI artifact in the local store.';
  static override description = [
    'Validates the package (its aip.yaml), then stores it as an OCI image manifest with artifactType application/vnd.aionos.agent.v1: the aip.yaml as canonical JSON config, the wasm module as an application/vnd.wasm.content.layer.v1+wasm layer and every other file as a titled layer (see docs/oci.md).',
    'The result is reproducible: the same files give the same digest on any machine. No timestamp is recorded unless SOURCE_DATE_EPOCH is set or --created is given.',
    'By default the artifact goes into the local store (under $XDG_DATA_HOME/aionctl/store, or $AIONCTL_HOME/data/store) as NAME:VERSION from aip.yaml; --output oci:PATH[:TAG] writes an OCI image layout instead. Prints the manifest digest.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> pack examples/summarize-wasm',
    '<%= config.bin %> pack . --tag 1.3.0-rc.1',
    '<%= config.bin %> pack . --output oci:./build/layout:latest --json',
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
    annotation: Flags.string({
      char: 'a',
      multiple: true,
      multipleNonGreedy: true,
      description: 'Extra manifest annotation KEY=VALUE (repeatable).',
    }),
  };

  async run(): Promise<PackResultJson> {
    const { args, flags } = await this.parse(Pack);
    const dir = resolve(args.dir);
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
    this.log(result.descriptor.digest);
    return {
      ref: finalRef,
      digest: result.descriptor.digest,
      mediaType: result.descriptor.mediaType,
      size: result.descriptor.size,
    };
  }
}
