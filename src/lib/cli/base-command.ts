import { Command, Flags, type Interfaces } from '@oclif/core';
import { AionError, isAionError } from '../errors/index.js';
import { type CommandIo, debugIn, type ErrorOutput, quietIn, renderAionError, renderUnexpectedError } from './io.js';
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
    return 'quiet' in flags && quietIn(this.argv);
  }

  /** This command as the handlers in src/lib/cli/handlers see it (the start-up fast path gives them the same). */
  protected io(): CommandIo {
    return {
      bin: this.config.bin,
      version: this.config.version,
      out: this.out,
      err: this.err,
      jsonEnabled: () => this.jsonEnabled(),
      log: (message) => this.log(message),
      diag: (message) => this.diag(message),
      warnLine: (message) => this.warnLine(message),
      setExitCode: (code) => this.setExitCode(code),
    };
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

  private errorOutput(): ErrorOutput {
    return {
      json: this.jsonEnabled(),
      debug: debugIn(this.argv, process.env),
      err: this.err,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    };
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
    return this.exit(renderUnexpectedError(error, this.errorOutput()));
  }

  protected renderError(error: AionError): void {
    renderAionError(error, this.errorOutput());
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
