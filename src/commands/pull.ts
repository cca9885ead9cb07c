import { BaseCommand, oclifArgs, oclifFlags } from '../lib/cli/index.js';
import { pullSpec, type PullResultJson, runPullCommand } from '../lib/cli/handlers/pull.js';

export default class Pull extends BaseCommand {
  static override summary = 'Pull an artifact into the local store (verified); with -o also write its files.';
  static override description = [
    'REF is HOST[:PORT]/REPOSITORY:TAG (or @sha256:DIGEST), oci:PATH:TAG, or a store NAME:TAG. Every blob is checked against its digest while it streams and only verified content enters the store, so an interrupted or tampered download leaves nothing behind. Interrupted blob downloads resume with HTTP Range.',
    'Before anything is stored, the artifact is verified against the trust policy (`trust:` in .aionctl.yaml or the user config): a rule matching REGISTRY/REPOSITORY names the public keys that may sign it, and an artifact without a valid signature by one of them (or without an SBOM when the rule has requireSbom) is refused and quarantined (`aionctl quarantine ls`). --insecure-skip-verify is the only way around it.',
    'With -o DIR the package files (layers titled org.opencontainers.image.title) are written to DIR; titles with "..", hidden segments (".git/..."), absolute paths, or paths through symlinks are refused before anything is written, and existing files are not replaced without --force. A quarantined digest (`aionctl quarantine ls`) is refused (ST013) even with --insecure-skip-verify until `aionctl quarantine rm`.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> pull localhost:5000/agents/my-agent:1.0.0',
    '<%= config.bin %> pull ghcr.io/acme/my-agent:1.0.0 -o ./my-agent --json',
    '<%= config.bin %> pull oci:./export:1.0.0 -o ./out',
  ];
  static override args = oclifArgs(pullSpec.args);
  static override flags = oclifFlags(pullSpec.flags);

  async run(): Promise<PullResultJson> {
    const parsed = await this.parse(Pull);
    return runPullCommand(this.io(), { flags: parsed.flags, args: parsed.args, argv: parsed.argv as string[] });
  }
}
