/**
 * cosign's command-line habits, accepted by `sign` and `verify` so scripts written for cosign keep working:
 * `-o json` / `--output json` (= --json), `--yes`/`-y` (sign never prompts for confirmation), `--insecure-ignore-tlog`
 * (verify: aionctl uses no transparency log, so this changes nothing) and `--tlog-upload=false` (sign; `true` is
 * refused: there is no log to upload to). cosign's Go flag syntax `--flag=true|false` for booleans is rewritten
 * into oclif's `--flag` / `--no-flag` first.
 */
import { Flags } from '@oclif/core';
import { AionError } from '../errors/index.js';

const BOOLEAN_FLAGS = new Set(['insecure-ignore-tlog', 'tlog-upload', 'yes']);

/** Rewrites `--insecure-ignore-tlog=true`, `--tlog-upload=false`, `--yes=true` into oclif boolean syntax. */
export function cosignArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([a-z-]+)=(true|false|1|0)$/i.exec(arg);
    if (m && BOOLEAN_FLAGS.has((m[1] as string).toLowerCase())) {
      const on = /^(true|1)$/i.test(m[2] as string);
      out.push(on ? `--${m[1]}` : `--no-${m[1]}`);
    } else out.push(arg);
  }
  return out;
}

/** True when argv asks for JSON the cosign way: `-o json`, `-ojson`, `-o=json`, `--output json`, `--output=json`. */
export function wantsJsonOutput(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return false;
    if ((arg === '-o' || arg === '--output') && argv[i + 1] === 'json') return true;
    if (arg === '-ojson' || arg === '-o=json' || arg === '--output=json') return true;
  }
  return false;
}

/** `--output`/`-o` as cosign has it on sign and verify: `json` is --json. */
export const outputFlag = Flags.string({
  char: 'o',
  description: 'Output format, as cosign: json is the same as --json.',
  options: ['json', 'text'],
});

export const cosignSignFlags = {
  output: outputFlag,
  yes: Flags.boolean({
    char: 'y',
    description: 'Skip confirmation prompts (accepted for cosign compatibility; aionctl sign never asks).',
    allowNo: true,
  }),
  'tlog-upload': Flags.boolean({
    description:
      'cosign: upload to the transparency log. aionctl uses no log: --tlog-upload=false is accepted, true is refused.',
    allowNo: true,
  }),
};

export const cosignVerifyFlags = {
  output: outputFlag,
  'insecure-ignore-tlog': Flags.boolean({
    description: 'Accepted for cosign compatibility: aionctl checks no transparency log unless --rekor-key is given.',
    allowNo: true,
  }),
};

/** Refuses `--tlog-upload` (true): ST006, there is no transparency log. */
export function assertNoTlogUpload(tlogUpload: boolean | undefined): void {
  if (tlogUpload === true) {
    throw new AionError('ST006', 'aionctl uploads to no transparency log, so --tlog-upload=true cannot be honoured', {
      hint: 'drop the flag or pass --tlog-upload=false; verify with cosign verify --insecure-ignore-tlog',
    });
  }
}
