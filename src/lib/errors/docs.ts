import { CATALOG } from './catalog.js';
import { EXIT_MEANINGS, FAMILY_EXIT } from './exit-codes.js';
import { exitCodeFor } from './index.js';
import type { ErrorFamily } from './types.js';

const FAMILY_NAMES: Record<ErrorFamily, string> = {
  CI: 'command line and configuration',
  FS: 'filesystem',
  MD: 'metadata (stamp)',
  SC: 'schema (validate)',
  RG: 'registry and store',
  ST: 'security (signatures, keys, trust)',
  LC: 'lifecycle (install, lockfile, daemon)',
  NE: 'network',
  EX: 'execution',
};

/** Renders docs/errors.md from the catalog, so the documentation cannot drift from the code. */
export function renderErrorsMarkdown(): string {
  const lines = [
    '# Error codes and exit codes',
    '',
    '<!-- Generated from src/lib/errors/catalog.ts by `npm run docs:errors`; a test fails if this file drifts. -->',
    '',
    'Every failure aionctl reports carries a stable code (`FAMILY` + three digits), a one-line message that says',
    'what to do, and sometimes a hint. With `--json` the error is printed as',
    '`{"error": {"code", "message", "hint"?, "position"?, "details"?}}` on stdout. Stacks are printed only with',
    '`--debug` or `DEBUG=aionctl`.',
    '',
    '## Exit codes',
    '',
    '| exit | meaning |',
    '| --- | --- |',
    ...Object.entries(EXIT_MEANINGS).map(([exit, meaning]) => `| ${exit} | ${meaning} |`),
    '',
    '## Codes',
  ];
  for (const family of Object.keys(CATALOG) as ErrorFamily[]) {
    const specs = CATALOG[family];
    lines.push('', `### ${family}: ${FAMILY_NAMES[family]} (exit ${FAMILY_EXIT[family]})`, '');
    if (specs.length === 0) {
      lines.push('No codes yet.');
      continue;
    }
    lines.push('| code | exit | when |', '| --- | --- | --- |');
    for (const spec of specs) lines.push(`| ${spec.code} | ${exitCodeFor(spec.code)} | ${spec.summary} |`);
  }
  return `${lines.join('\n')}\n`;
}
