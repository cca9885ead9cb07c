// What a command handler may do to the terminal, implemented by BaseCommand (oclif) and by the start-up fast path
// (lite.ts) alike, so both print the same bytes.
import { AionError, EXIT, formatPosition, isAionError } from '../errors/index.js';
import type { Styler } from './style.js';

export interface CommandIo {
  /** The CLI's name (`aionctl`) and version, as oclif's config gives them. */
  readonly bin: string;
  readonly version: string;
  readonly out: Styler;
  readonly err: Styler;
  /** `--json` given (before any `--`), or AIONCTL_CONTENT_TYPE=json. */
  jsonEnabled(): boolean;
  /** A result line on stdout (nothing under --json). */
  log(message: string): void;
  /** A diagnostic line on stderr; silent under --json and -q/--quiet. */
  diag(message: string): void;
  warnLine(message: string): void;
  /** Sets the exit code without throwing, so --json output is still printed. */
  setExitCode(code: number): void;
}

/** `-q/--quiet` before any `--` (commands that have the flag). */
export function quietIn(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '-q' || a === '--quiet');
}

/** DEBUG=* or DEBUG=aionctl...: the environment asks for stack traces and internal details. */
export function debugInEnv(env: NodeJS.ProcessEnv): boolean {
  const debug = env.DEBUG ?? '';
  return debug === '*' || debug.split(',').some((d) => d.trim().startsWith('aionctl'));
}

/** `--debug` or the environment (debugInEnv). */
export function debugIn(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--debug') || debugInEnv(env);
}

/** What oclif's jsonEnabled() answers for a command with enableJsonFlag. */
export function jsonIn(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env.AIONCTL_CONTENT_TYPE?.toLowerCase() === 'json') return true;
  const end = argv.indexOf('--');
  const json = argv.indexOf('--json');
  return json !== -1 && (end === -1 || json < end);
}

export interface ErrorOutput {
  json: boolean;
  debug: boolean;
  err: Styler;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** An AionError as every command prints it (JSON on stdout under --json, else code, position, hint on stderr). */
export function renderAionError(error: AionError, out: ErrorOutput): void {
  if (out.json) {
    out.stdout(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
    return;
  }
  const where = formatPosition(error.position);
  out.stderr(`${out.err('red', 'error')} ${error.code}: ${where ? `${where}: ` : ''}${error.message}\n`);
  if (error.hint) out.stderr(`  hint: ${error.hint}\n`);
  if (out.debug && error.cause instanceof Error) out.stderr(`${error.cause.stack ?? ''}\n`);
}

/** Any other error is a bug: say so plainly (EX001), the stack only when asked. Returns the exit code. */
export function renderUnexpectedError(error: Error, out: ErrorOutput): number {
  if (out.json) {
    out.stdout(`${JSON.stringify({ error: { code: 'EX001', message: error.message } }, null, 2)}\n`);
  } else {
    out.stderr(`${out.err('red', 'error')} EX001: internal error: ${error.message}\n`);
    if (out.debug) out.stderr(`${error.stack ?? ''}\n`);
    else out.stderr('  hint: rerun with --debug for a stack trace and report it\n');
  }
  return EXIT.INTERNAL;
}

/** Renders what a command threw and returns its exit code. */
export function renderCommandError(error: unknown, out: ErrorOutput): number {
  if (isAionError(error)) {
    renderAionError(error, out);
    return error.exitCode;
  }
  return renderUnexpectedError(error instanceof Error ? error : new Error(String(error)), out);
}
