import { readFileSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { AionError, type ErrorCode } from '../lib/errors/index.js';
import {
  INPUT_ERROR_CODE,
  INPUT_ERROR_HINT,
  inputErrorMessage,
  type RunEnvelope,
  runPackage,
  type SandboxMode,
} from '../lib/run/index.js';

function parseInput(text: string, from: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AionError(INPUT_ERROR_CODE, inputErrorMessage(from, err), { hint: INPUT_ERROR_HINT });
  }
}

export default class Run extends BaseCommand {
  static override summary =
    'Run an agent package: JSON in, JSON out, under the limits and permissions of its manifest.';
  static override description = [
    'PACKAGE is a package directory, an installed name (.aionctl/packages/NAME), a store reference NAME:TAG, oci:PATH:TAG or a registry reference HOST/REPOSITORY:TAG. References are verified against the trust policy first (as `pull` does): nothing unverified runs, except a directory you point at.',
    'WASM packages run in a separate Node host (node:wasi, WASI preview 1) and subprocess packages as their runtime.command argv; both inside bubblewrap: new user/pid/ipc/uts/cgroup namespaces, no network unless permissions.network is allow, read-only binds of only what is needed, a private /tmp, uid 65534, no capabilities, rlimits. Only the secrets listed in permissions.secrets reach the module.',
    'stdout carries the module output only (JSON); --json prints the result envelope {ok, output, error, exitCode, durationMs, attempts, runtime, sandbox, package, limits}. Exit codes: 0 ok; 6 the trust policy refused the artifact (ST); 8 the run failed (EX010-EX039, see docs/errors.md).',
  ].join('\n\n');
  static override examples = [
    `<%= config.bin %> run examples/summarize-wasm --input-json '{"text":"hello big world"}'`,
    `echo '{"hello":1}' | <%= config.bin %> run examples/echo-subprocess --json`,
    '<%= config.bin %> run summarize_text:1.3.0 --input request.json --timeout 500',
    '<%= config.bin %> run my-agent --env OPENAI_API_KEY --dir ./data:/data:ro',
  ];
  static override args = {
    package: Args.string({ description: 'Package directory, installed name or reference.', required: true }),
  };
  static override flags = {
    input: Flags.string({ char: 'i', description: 'Read the JSON request from FILE (- for stdin, the default).' }),
    'input-json': Flags.string({ description: 'The JSON request itself.', exclusive: ['input'] }),
    timeout: Flags.integer({ description: 'Timeout in ms (only lowers policies.timeout_ms).', min: 1 }),
    env: Flags.string({
      description: 'Pass only these secrets (names from permissions.secrets; default: all listed).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    dir: Flags.string({
      description: 'Grant a directory: HOST[:GUEST][:ro|:rw], within what the manifest permits.',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'no-daemon': Flags.boolean({
      description: 'Run in this process even when a daemon is up (also AIONCTL_DAEMON=off); see aionctl daemon.',
    }),
    sandbox: Flags.string({
      description: 'auto (bubblewrap, refuse without it), bwrap, or none (unconfined: only when asked, warns).',
      options: ['auto', 'bwrap', 'none'],
      default: 'auto',
    }),
  };

  async run(): Promise<RunEnvelope> {
    const { args, flags } = await this.parse(Run);
    let input: unknown;
    if (flags['input-json'] !== undefined) input = parseInput(flags['input-json'], '--input-json');
    else if (flags.input !== undefined && flags.input !== '-') {
      let text: string;
      try {
        text = readFileSync(flags.input, 'utf8');
      } catch (err) {
        throw new AionError('FS001', `cannot read ${flags.input}: ${(err as Error).message}`);
      }
      input = parseInput(text, flags.input);
    } else input = parseInput(readFileSync(0, 'utf8'), 'stdin');

    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let envelope: RunEnvelope;
    try {
      envelope = await runPackage(
        {
          package: args.package,
          input,
          timeoutMs: flags.timeout,
          env: flags.env,
          dirs: flags.dir,
          sandbox: flags.sandbox as SandboxMode,
        },
        {
          cwd: process.cwd(),
          env: process.env,
          paths: resolvePaths(process.env),
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'stderr' && !this.jsonEnabled()) process.stderr.write(e.data);
            else if (e.type === 'warning') this.warnLine(e.message);
            else if (e.type === 'retry')
              this.diag(`retrying (attempt ${e.attempt}) in ${e.delayMs} ms after ${e.code}`);
          },
        },
      );
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (!envelope.ok && envelope.error) {
      const error = new AionError(envelope.error.code as ErrorCode, envelope.error.message);
      this.setExitCode(error.exitCode);
      if (!this.jsonEnabled()) {
        this.renderError(error);
        if (envelope.exitCode !== null) process.stderr.write(`  exit status: ${envelope.exitCode}\n`);
      }
      return envelope;
    }
    if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(envelope.output)}\n`);
    return envelope;
  }
}
