import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { AionError, fsError } from '../lib/errors/index.js';
import { KIND_NAMES, KINDS, type ManifestKind, schemaFor } from '../lib/manifest/index.js';

export interface SchemaResult {
  kind?: string;
  schema?: Record<string, unknown>;
  written?: string[];
  kinds?: { kind: string; id: string; file: string }[];
}

export default class Schema extends BaseCommand {
  static override summary = 'Print a manifest JSON Schema, or write them all to a folder for your editor.';
  static override description = [
    `KIND is one of: ${KIND_NAMES.join(', ')}. Without KIND, lists the kinds. With --output DIR, writes every schema to DIR.`,
    'Editors using yaml-language-server (VS Code YAML extension, Neovim, IntelliJ) validate as you type when a manifest starts with:\n  # yaml-language-server: $schema=./schemas/agent-package.schema.json',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> schema agent-package > agent-package.schema.json',
    '<%= config.bin %> schema --output .schemas',
    '<%= config.bin %> schema',
  ];
  static override args = {
    kind: Args.string({ description: 'Which schema to print.', options: KIND_NAMES }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'Write every schema into this directory.' }),
  };

  async run(): Promise<SchemaResult> {
    const { args, flags } = await this.parse(Schema);
    if (flags.output) {
      if (args.kind)
        throw new AionError('CI002', 'give either KIND or --output, not both', {
          hint: 'aionctl schema --output DIR writes them all',
        });
      const written: string[] = [];
      try {
        await mkdir(flags.output, { recursive: true });
        for (const kind of KIND_NAMES) {
          const file = join(flags.output, KINDS[kind].schemaFile);
          await writeFile(file, `${JSON.stringify(schemaFor(kind), null, 2)}\n`);
          written.push(file);
        }
      } catch (err) {
        throw fsError(err, flags.output, 'write');
      }
      for (const file of written) this.log(file);
      return { written };
    }
    if (!args.kind) {
      const kinds = KIND_NAMES.map((kind) => ({ kind, id: String(schemaFor(kind).$id), file: KINDS[kind].schemaFile }));
      for (const k of kinds)
        this.log(`${k.kind.padEnd(14)} ${KINDS[k.kind as ManifestKind].summary}\n${''.padEnd(14)} ${k.id}`);
      return { kinds };
    }
    const schema = schemaFor(args.kind as ManifestKind);
    this.log(JSON.stringify(schema, null, 2));
    return { kind: args.kind, schema };
  }
}
