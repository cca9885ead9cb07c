import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { EXIT } from '../lib/errors/index.js';
import {
  assertSomethingToValidate,
  formatDiagnostic,
  toSarif,
  validatePaths,
  type ValidationReport,
} from '../lib/manifest/index.js';

export default class Validate extends BaseCommand {
  static override summary = 'Validate agent package manifests and registry files against their schemas.';
  static override description = [
    'Checks aip.yaml (apiVersion aionos/v1, kind AgentPackage), intents.yml, policies.yml, models.yml, modules.yml and *.onex.yaml against the JSON Schemas in manifests/ (see `aionctl schema`). Directories are searched. Every problem of every file is reported in one run as FILE:LINE:COL  CODE  message, pointing at the offending YAML node.',
    'Registry files in one directory are also checked against each other: intents’ tiers_allowed exist in models.yml, routes are known, providers are allowed by policies.yml, modules.yml refs are valid OCI references, local-only intents never reach cloud tiers. A package’s module and I/O schema files must exist inside the package and be valid.',
    'Warnings (such as SC020, a wasm package whose module is not built yet: runtime.module defaults to module.wasm) are reported but leave the exit code 0; pack and run refuse such a package.',
    'Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage, 3 some input could not be read (binary, not UTF-8, too large).',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> validate examples/',
    '<%= config.bin %> validate aip.yaml --json',
    '<%= config.bin %> validate registry/ --format sarif > aionctl.sarif',
  ];
  static override strict = false;
  static override args = {
    paths: Args.string({ description: 'Files or directories to validate (default: the current directory).' }),
  };
  static override flags = {
    format: Flags.string({
      description: 'Output format: text (default) or sarif (SARIF 2.1.0 on stdout, for code scanning).',
      options: ['text', 'sarif'],
      default: 'text',
    }),
    quiet: Flags.boolean({ char: 'q', description: 'Print only the problems, no summary.' }),
  };

  async run(): Promise<ValidationReport> {
    const { argv, flags } = await this.parse(Validate);
    const paths = argv.length > 0 ? (argv as string[]) : ['.'];
    const report = validatePaths(paths, { cwd: process.cwd() });
    assertSomethingToValidate(report, paths);
    const { summary } = report;
    this.setExitCode(summary.unreadable > 0 ? EXIT.INPUT : summary.errors > 0 ? EXIT.CHECK_FAILED : EXIT.OK);
    if (flags.format === 'sarif' && !this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify(toSarif(report.diagnostics, this.config.version), null, 2)}\n`);
      return report;
    }
    for (const d of report.diagnostics) {
      this.log(formatDiagnostic(d).replace(d.code, this.out(d.severity === 'warning' ? 'yellow' : 'red', d.code)));
    }
    if (!flags.quiet) {
      const warnings = summary.warnings > 0 ? ` (${summary.warnings} warning(s))` : '';
      const status =
        summary.errors === 0
          ? this.out('green', `${summary.files} file(s) valid`) + warnings
          : `${summary.errors} problem(s) in ${summary.invalid + summary.unreadable} of ${summary.files} file(s)${warnings}`;
      this.diag(status);
    }
    return report;
  }
}
