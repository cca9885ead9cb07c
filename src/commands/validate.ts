import { BaseCommand, oclifArgs, oclifFlags } from '../lib/cli/index.js';
import { runValidateCommand, validateSpec } from '../lib/cli/handlers/validate.js';
import type { ValidationReport } from '../lib/manifest/index.js';

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
  static override strict = validateSpec.strict;
  static override args = oclifArgs(validateSpec.args);
  static override flags = oclifFlags(validateSpec.flags);

  async run(): Promise<ValidationReport> {
    const parsed = await this.parse(Validate);
    return runValidateCommand(this.io(), { flags: parsed.flags, args: parsed.args, argv: parsed.argv as string[] });
  }
}
