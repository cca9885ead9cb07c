import { BaseCommand, oclifArgs, oclifFlags } from '../lib/cli/index.js';
import { runStampCommand, stampSpec } from '../lib/cli/handlers/stamp.js';
import type { StampRunResult } from '../lib/stamp/index.js';

export default class Stamp extends BaseCommand {
  static override summary = 'Add or refresh ONEX metadata blocks in source files, or check that they are current.';
  static override description = `Each file gets one metadata block as its first comment (after a shebang, coding cookie, <?xml ?>, <!doctype>, <?php, Dockerfile directives or Markdown front matter). The block's hash seals the other fields and the file's body, so --check notices any hand edit. Stamping is idempotent: an unchanged file keeps every byte; uuid and created_at never change.

Directories are walked with .gitignore honoured (git ls-files inside a repository); node_modules, .git and dist are pruned; symlinks are never followed. Unknown types, binary, generated, JSON and lock files are skipped (errors only with --strict). Defaults for owner, author, ... come from the stamp section of .aionctl.yaml; the flags below set a field on every file they stamp.

Exit codes: 0 done or clean; 1 --check found files to stamp, or two files share a uuid (MD007); 3 a file could not be processed (MD001-MD006, FS); 2 usage. See docs/stamp.md for the block format and the hash.`;

  static override examples = [
    { description: 'Stamp every file in the repository', command: '<%= config.bin %> stamp' },
    { description: 'CI: fail when a file needs stamping, list them', command: '<%= config.bin %> stamp --check' },
    { description: 'Show what stamp would change, as a diff', command: '<%= config.bin %> stamp --check --diff src' },
    {
      description: 'Per-file status as JSON',
      command: '<%= config.bin %> stamp --check --json src/',
    },
    {
      description: 'Stamp with an owner, skipping generated code',
      command: '<%= config.bin %> stamp --owner "Team Lab" --exclude "gen/**" src docs',
    },
    {
      description: 'Give a copied file its own uuid',
      command: '<%= config.bin %> stamp --regenerate-uuid src/copy-of-tool.py',
    },
  ];

  static override args = oclifArgs(stampSpec.args);

  static override strict = stampSpec.strict;

  static override flags = oclifFlags(stampSpec.flags);

  async run(): Promise<StampRunResult> {
    const parsed = await this.parse(Stamp);
    return runStampCommand(this.io(), { flags: parsed.flags, args: parsed.args, argv: parsed.argv as string[] });
  }
}
