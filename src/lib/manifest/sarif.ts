import { CATALOG } from '../errors/index.js';
import type { Diagnostic } from './diagnostics.js';

/** SARIF 2.1.0 (what GitHub code scanning uploads): one rule per code used, one result per diagnostic. */
export function toSarif(diagnostics: readonly Diagnostic[], version: string): Record<string, unknown> {
  const summaries = new Map(Object.values(CATALOG).flatMap((specs) => specs.map((s) => [s.code, s.summary] as const)));
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'aionctl',
            version,
            informationUri: 'https://aionos.dev/aionctl',
            rules: codes.map((code) => ({
              id: code,
              shortDescription: { text: summaries.get(code) ?? code },
              helpUri: `https://aionos.dev/aionctl/docs/errors#${code.toLowerCase()}`,
            })),
          },
        },
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity === 'warning' ? 'warning' : 'error',
          message: { text: d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: d.file.split('\\').join('/') },
                region: { startLine: d.line, startColumn: d.col },
              },
            },
          ],
        })),
      },
    ],
  };
}
