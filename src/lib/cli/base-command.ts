import { Command, Flags, type Interfaces } from '@oclif/core';
import { AionError, EXIT, formatPosition, isAionError } from '../errors/index.js';
import { createStyler, colorEnabled, type Styler } from './style.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

/**
 * Every aionctl command extends this: `--json` (stable result shape, printed by oclif from run()'s return value),
 * `--debug`, human output on stdout, diagnostics on stderr, and one error renderer that maps AionError codes to
 * exit codes. Commands stay thin: parse flags, call one function in src/lib, render.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    debug: Flags.boolean({
      description: 'Print stack traces and internal details of errors (also DEBUG=aionctl).',
      helpGroup: 'GLOBAL',
    }),
  };

  protected readonly out: Styler = createStyler(colorEnabled(process.stdout));
  protected readonly err: Styler = createStyler(colorEnabled(process.stderr));

  /** `-q/--quiet` given (commands that have the flag): diagnostics and progress lines are not printed. */
  protected get quiet(): boolean {
    const flags = (this.ctor as { flags?: Record<string, unknown> }).flags ?? {};
    if (!('quiet' in flags)) return false;
    const end = this.argv.indexOf('--');
    return (end < 0 ? this.argv : this.argv.slice(0, end)).some((a) => a === '-q' || a === '--quiet');
  }

  /** A diagnostic line on stderr (never on stdout, so pipes stay clean); silent under --json and --quiet. */
  protected diag(message: string): void {
    if (!this.jsonEnabled() && !this.quiet) process.stderr.write(`${message}\n`);
  }

  protected warnLine(message: string): void {
    process.stderr.write(`${this.err('yellow', 'warning')}: ${message}\n`);
  }

  /** Sets the exit code without throwing, so --json output is still printed (e.g. `stamp --check` found work). */
  protected setExitCode(code: number): void {
    process.exitCode = code;
  }

  private debugEnabled(): boolean {
    const env = process.env.DEBUG ?? '';
    return this.argv.includes('--debug') || env === '*' || env.split(',').some((d) => d.trim().startsWith('aionctl'));
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // oclif's own exits (this.exit, --help, --version) and parse errors pass through untouched except usage errors.
    if ((error as { code?: string }).code === 'EEXIT') throw error;
    // oclif's parser errors (unknown flag, missing or invalid argument...) all carry `parse`: usage errors.
    const isParseError = (error as { parse?: unknown }).parse !== undefined;
    const aion = isAionError(error)
      ? error
      : isParseError
        ? new AionError('CI001', oneLine(error.message), {
            hint: `see: ${this.config.bin} ${this.id ?? ''} --help`.trimEnd(),
          })
        : undefined;
    if (aion) {
      this.renderError(aion);
      return this.exit(aion.exitCode);
    }
    // A bug: say so plainly, stack only when asked.
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: { code: 'EX001', message: error.message } }, null, 2)}\n`);
    } else {
      process.stderr.write(`${this.err('red', 'error')} EX001: internal error: ${error.message}\n`);
      if (this.debugEnabled()) process.stderr.write(`${error.stack ?? ''}\n`);
      else process.stderr.write('  hint: rerun with --debug for a stack trace and report it\n');
    }
    return this.exit(EXIT.INTERNAL);
  }

  protected renderError(error: AionError): void {
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
      return;
    }
    const where = formatPosition(error.position);
    process.stderr.write(`${this.err('red', 'error')} ${error.code}: ${where ? `${where}: ` : ''}${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    if (this.debugEnabled() && error.cause instanceof Error) process.stderr.write(`${error.cause.stack ?? ''}\n`);
  }
}

/** oclif's multi-line parser messages as one line, without its own "See more help" (our hint says it). */
function oneLine(message: string): string {
  const text = message
    .replace(/\n\s*See more help with --help\s*$/, '')
    .split('\n')
    .map((line) => line.trim().replace(/\s{2,}/g, ': '))
    .filter(Boolean)
    .join(' ');
  return text || 'invalid usage';
}
