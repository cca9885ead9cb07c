import { Args, Flags } from '@oclif/core';
import { BaseCommand, connectOptions, registryFlags } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { install, type InstallOptions, type InstallResult, progressLine, summaryLine } from '../lib/install/index.js';

export const installFlags = {
  ...registryFlags,
  frozen: Flags.boolean({
    description: 'Fail (LC005) when aionctl.lock would change. Default when CI is set (--no-frozen to override).',
    allowNo: true,
  }),
  offline: Flags.boolean({ description: 'Use only the local store; NE020 names anything missing.' }),
  concurrency: Flags.integer({ description: 'Packages fetched in parallel.', default: 4, min: 1, max: 32 }),
};

type InstallFlagValues = { frozen?: boolean; offline: boolean; concurrency: number; quiet: boolean } & Parameters<
  typeof connectOptions
>[0];

/**
 * The one `install()` call behind install, update and uninstall: flags mapped, one progress line per package on
 * stderr (stdout stays for --json), warnings through the command.
 */
export async function installWithFlags(
  flags: InstallFlagValues,
  io: { silent: boolean; diag: (line: string) => void; warn: (line: string) => void },
  extra: Partial<InstallOptions>,
): Promise<InstallResult> {
  return install({
    cwd: process.cwd(),
    env: process.env,
    paths: resolvePaths(process.env),
    ...(flags.frozen !== undefined ? { frozen: flags.frozen } : {}),
    offline: flags.offline,
    concurrency: flags.concurrency,
    registry: connectOptions(flags, io.warn),
    onEvent: (e) => {
      if (!io.silent) io.diag(progressLine(e));
    },
    ...extra,
  });
}

export default class Install extends BaseCommand {
  static override summary = 'Install the packages .aionctl.yaml declares (or add NAME[@RANGE]), verified and locked.';
  static override description = [
    'Resolves `packages:` (name: semver range) and every package\'s own `dependencies` against `registry:` (HOST/PREFIX, NAME is HOST/PREFIX/NAME; or oci:DIR with one OCI layout per package in DIR/NAME). Tags are versions ("_" stands for "+"); the highest version every range accepts wins, prereleases only when a range names one; one version per package.',
    'Every package is verified against the trust policy before it enters the local store; a refused one is quarantined and nothing is installed. aionctl.lock records the exact digests: while it still matches .aionctl.yaml, install uses it without listing tags (a moved tag changes nothing). Packages are extracted read-only to .aionctl/packages/NAME/.',
    'NAME@RANGE arguments are added to packages (default range ^HIGHEST); --modules adds every module of a modules.yml at its exact reference.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> install',
    '<%= config.bin %> install summarize_text@^1.3.0 echo_json',
    '<%= config.bin %> install --frozen --json',
    '<%= config.bin %> install --modules examples/registry/modules.yml',
    '<%= config.bin %> install --offline',
  ];
  static override strict = false;
  static override args = {
    packages: Args.string({ description: 'NAME[@RANGE] (or HOST/REPO/NAME[@RANGE]) to add to packages.' }),
  };
  static override flags = {
    ...installFlags,
    modules: Flags.string({ description: 'A modules.yml: install every module it lists at its reference.' }),
  };

  async run(): Promise<InstallResult> {
    const { argv, flags } = await this.parse(Install);
    const silent = flags.quiet || this.jsonEnabled();
    const result = await installWithFlags(
      flags,
      { silent, diag: (l) => this.diag(l), warn: (m) => this.warnLine(m) },
      { add: argv as string[], ...(flags.modules ? { modulesFile: flags.modules } : {}) },
    );
    if (!silent) this.diag(summaryLine(result));
    return result;
  }
}
