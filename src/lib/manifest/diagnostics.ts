import type { ErrorCode } from '../errors/index.js';

/** One finding, pointing into a file like tsc/eslint: `file:line:col  CODE  message`. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  code: ErrorCode;
  message: string;
  /** JSON pointer of the offending value, when it comes from the document. */
  pointer?: string;
  /** `warning` does not make the file invalid (validate exits 0); absent means error. */
  severity?: 'warning';
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}  ${d.code}  ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

export const isWarning = (d: Diagnostic): boolean => d.severity === 'warning';

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code),
  );
}
