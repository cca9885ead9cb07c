/**
 * The run's input error, shared by `aionctl run` (in-process) and the daemon fast path (bin/ → fast-run.ts), so a
 * bad input reads the same both ways. Dependency-free: the fast path must not load the error catalog.
 */
export const INPUT_ERROR_CODE = 'EX026' as const;
export const INPUT_ERROR_HINT = 'pass a JSON document, e.g. --input-json \'{"text":"hello"}\'';

/** The message for input from `from` (`stdin`, `--input-json` or a file) that JSON.parse refused with `err`. */
export function inputErrorMessage(from: string, err: unknown): string {
  return `the input from ${from} is not valid JSON: ${(err as Error).message}`;
}
