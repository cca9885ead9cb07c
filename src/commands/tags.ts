import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, registryFlags } from '../lib/cli/index.js';
import { listTags, openTarget, parseReference, presentTags, type TagSort } from '../lib/oci/index.js';

export interface TagsResultJson {
  repository: string;
  tags: string[];
}

export default class Tags extends BaseCommand {
  static override summary = 'List the tags of a repository (registry, oci: layout or local store).';
  static override description =
    'Follows Link pagination. Referrer fallback tags (sha256-<hex>, cosign sha256-<hex>.sig) are hidden unless --all. --sort semver lists versions highest first (a "_" in a tag is read as "+", as Helm stores build metadata), then the other tags; --sort lexical (default) sorts by code point; --sort none keeps the registry order.';
  static override examples = [
    '<%= config.bin %> tags localhost:5000/agents/my-agent',
    '<%= config.bin %> tags ghcr.io/acme/my-agent --sort semver --json',
    '<%= config.bin %> tags oci:./export',
  ];
  static override args = {
    ref: Args.string({
      description: 'Repository: HOST/REPOSITORY, oci:PATH or NAME (a tag or digest is ignored).',
      required: true,
    }),
  };
  static override flags = {
    ...registryFlags,
    all: Flags.boolean({ description: 'Include sha256-* referrer and signature tags.' }),
    sort: Flags.string({
      description: 'Order of the tags.',
      options: ['lexical', 'semver', 'none'],
      default: 'lexical',
    }),
  };

  async run(): Promise<TagsResultJson> {
    const { args, flags } = await this.parse(Tags);
    const ref = parseReference(args.ref, { plainHttp: flags['plain-http'] });
    const target = await openTarget(ref, {
      env: process.env,
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    });
    try {
      const tags = presentTags(await listTags(target, ref), { all: flags.all, sort: flags.sort as TagSort });
      for (const tag of tags) this.log(tag);
      return { repository: target.name, tags };
    } finally {
      await target.close();
    }
  }
}
