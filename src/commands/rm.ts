import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { AionError } from '../lib/errors/index.js';
import { parseReference, removeStoreTag, type RemovedTag } from '../lib/oci/index.js';

export interface RmResultJson {
  removed: RemovedTag[];
}

export default class Rm extends BaseCommand {
  static override summary = 'Remove tags from the local store.';
  static override description =
    'NAME:TAG removes that tag; NAME@sha256:... removes every tag of NAME pointing at that digest. Prints each removed NAME:TAG with the digest it pointed at. Blobs stay in the store (other tags and signatures may share them); signatures stored for the digest are kept.';
  static override examples = [
    '<%= config.bin %> rm summarize_text:1.3.0',
    '<%= config.bin %> rm summarize_text@sha256:0f3e... --json',
  ];
  static override strict = false;
  static override args = {
    ref: Args.string({ description: 'Store reference: NAME:TAG or NAME@DIGEST (several allowed).', required: true }),
  };

  async run(): Promise<RmResultJson> {
    const { argv } = await this.parse(Rm);
    const removed: RemovedTag[] = [];
    for (const raw of argv as string[]) {
      const ref = parseReference(raw);
      if (ref.kind !== 'store') {
        throw new AionError('CI001', `rm removes tags from the local store, not from ${raw}`, {
          hint: 'name a store artifact as NAME:TAG (see: aionctl images)',
        });
      }
      if (ref.tag === undefined && ref.digest === undefined) {
        throw new AionError('CI001', `name the tag to remove: ${raw}:TAG or ${raw}@DIGEST`, {
          hint: `see the tags with: aionctl tags ${raw}`,
        });
      }
      for (const r of await removeStoreTag(
        ref.repository,
        {
          ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
          ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
        },
        process.env,
      )) {
        removed.push(r);
        this.log(`removed ${r.name}:${r.tag} (was ${r.digest})`);
      }
    }
    return { removed };
  }
}
