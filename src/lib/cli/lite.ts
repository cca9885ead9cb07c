// The start-up fast path for the hot commands (issue 15): bin/run.js hands `stamp`, `validate`, `push` and `pull`
// here before @oclif/core is loaded (~80 ms of CommonJS, plus its config and plugin loading). The command's own
// handler runs with the same flag values, output and error rendering as under oclif. Anything this path does not
// reproduce exactly is declined (the function returns false before doing any work) and oclif answers instead:
// help, usage errors, unusual argv shapes, DEBUG (oclif's own debug output), --json on a terminal (oclif's theme).
import type { CommandIo } from './io.js';
import { debugIn, jsonIn, quietIn, renderCommandError } from './io.js';
import { colorEnabled, createStyler } from './style.js';
import { type CommandSpec, type ParsedArgv, parseArgvFast } from './spec.js';

interface Handler {
  spec: CommandSpec;
  run: (io: CommandIo, parsed: ParsedArgv) => Promise<unknown>;
}

// Each loaded on demand: a command imports only its own domain.
const HANDLERS: Record<string, () => Promise<Handler>> = {
  stamp: () => import('./handlers/stamp.js').then((m) => ({ spec: m.stampSpec, run: m.runStampCommand })),
  validate: () => import('./handlers/validate.js').then((m) => ({ spec: m.validateSpec, run: m.runValidateCommand })),
  push: () => import('./handlers/push.js').then((m) => ({ spec: m.pushSpec, run: m.runPushCommand })),
  pull: () => import('./handlers/pull.js').then((m) => ({ spec: m.pullSpec, run: m.runPullCommand })),
};

export interface LiteOptions {
  /** oclif's config.bin and config.version (package.json). */
  bin: string;
  version: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Ends the process the way oclif does after a failed command. */
  exit: (code: number) => never;
}

/**
 * Runs command `id` with `argv` (what follows the command id) when this path can answer exactly as oclif would;
 * returns false, having printed nothing, when it cannot.
 */
export async function runLite(id: string, argv: readonly string[], options: LiteOptions): Promise<boolean> {
  const load = HANDLERS[id];
  const { env, stdout, stderr } = options;
  if (load === undefined || env.DEBUG !== undefined) return false;
  const json = jsonIn(argv, env);
  if (json && stdout.isTTY) return false;
  const handler = await load();
  const parsed = parseArgvFast(handler.spec, argv);
  if (parsed === undefined) return false;
  const quiet = 'quiet' in handler.spec.flags && quietIn(argv);
  const out = createStyler(colorEnabled(stdout, env));
  const err = createStyler(colorEnabled(stderr, env));
  const io: CommandIo = {
    bin: options.bin,
    version: options.version,
    out,
    err,
    jsonEnabled: () => json,
    log: (message) => {
      if (!json) stdout.write(`${message}\n`);
    },
    diag: (message) => {
      if (!json && !quiet) stderr.write(`${message}\n`);
    },
    warnLine: (message) => stderr.write(`${err('yellow', 'warning')}: ${message}\n`),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
  let result: unknown;
  try {
    result = await handler.run(io, parsed);
  } catch (error) {
    const code = renderCommandError(error, {
      json,
      debug: debugIn(argv, env),
      err,
      stdout: (text) => stdout.write(text),
      stderr: (text) => stderr.write(text),
    });
    options.exit(code);
  }
  if (result && json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return true;
}
