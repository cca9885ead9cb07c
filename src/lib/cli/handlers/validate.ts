// `aionctl validate`: its flags (plain data) and its run, shared by the oclif command and the start-up fast path.
import { EXIT } from '../../errors/index.js';
import {
  assertSomethingToValidate,
  formatDiagnostic,
  toSarif,
  validatePaths,
  type ValidationReport,
} from '../../manifest/index.js';
import type { CommandIo } from '../io.js';
import type { CommandSpec, FlagSpec, ParsedArgv, SpecValues } from '../spec.js';

const validateFlags = {
  format: {
    type: 'string',
    description: 'Output format: text (default) or sarif (SARIF 2.1.0 on stdout, for code scanning).',
    options: ['text', 'sarif'],
    default: 'text',
  },
  quiet: { type: 'boolean', char: 'q', description: 'Print only the problems, no summary.' },
} satisfies Record<string, FlagSpec>;

export const validateSpec = {
  flags: validateFlags,
  args: { paths: { description: 'Files or directories to validate (default: the current directory).' } },
  strict: false,
} satisfies CommandSpec;

export async function runValidateCommand(io: CommandIo, parsed: ParsedArgv): Promise<ValidationReport> {
  const flags = parsed.flags as SpecValues<typeof validateFlags>;
  const paths = parsed.argv.length > 0 ? parsed.argv : ['.'];
  const report = validatePaths(paths, { cwd: process.cwd() });
  assertSomethingToValidate(report, paths);
  const { summary } = report;
  io.setExitCode(summary.unreadable > 0 ? EXIT.INPUT : summary.errors > 0 ? EXIT.CHECK_FAILED : EXIT.OK);
  if (flags.format === 'sarif' && !io.jsonEnabled()) {
    process.stdout.write(`${JSON.stringify(toSarif(report.diagnostics, io.version), null, 2)}\n`);
    return report;
  }
  for (const d of report.diagnostics) {
    io.log(formatDiagnostic(d).replace(d.code, io.out(d.severity === 'warning' ? 'yellow' : 'red', d.code)));
  }
  if (!flags.quiet) {
    const warnings = summary.warnings > 0 ? ` (${summary.warnings} warning(s))` : '';
    const status =
      summary.errors === 0
        ? io.out('green', `${summary.files} file(s) valid`) + warnings
        : `${summary.errors} problem(s) in ${summary.invalid + summary.unreadable} of ${summary.files} file(s)${warnings}`;
    io.diag(status);
  }
  return report;
}
