// `aionctl stamp`: its flags (plain data) and its run, shared by the oclif command and the start-up fast path.
import { randomUUID } from 'node:crypto';
import { loadConfig, resolvePaths, type StampConfig } from '../../config/index.js';
import { AionError, formatPosition } from '../../errors/index.js';
import {
  type FieldValues,
  type FileResult,
  LIFECYCLES,
  SKIP_REASONS,
  type SkipReason,
  type StampRunResult,
  assertOneLineValues,
  defaultOwner,
  stampFiles,
  stampNow,
} from '../../stamp/index.js';
import { type CommandIo, debugInEnv } from '../io.js';
import type { CommandSpec, FlagSpec, ParsedArgv, SpecValues } from '../spec.js';

const stampFlags = {
  check: {
    type: 'boolean',
    char: 'c',
    description: 'Write nothing; list the files stamp would change and exit 1 if there are any.',
  },
  diff: {
    type: 'boolean',
    char: 'd',
    description: 'Show each change as a unified diff (with --check: what stamp would write).',
  },
  strict: {
    type: 'boolean',
    description: 'Treat skipped files (unknown type, binary, generated, JSON, lock) as errors.',
  },
  exclude: {
    type: 'string',
    char: 'x',
    // One value per occurrence: `stamp -x 'gen/**' a.py b.py` must keep a.py and b.py as files (pre-commit's shape).
    multiple: true,
    description: 'Glob (gitignore-like, relative to the working directory) of paths to leave alone; repeatable.',
  },
  'regenerate-uuid': {
    type: 'boolean',
    description: "Give the named files a fresh uuid (for a copied file that duplicates another file's uuid).",
  },
  owner: {
    type: 'string',
    description: 'Set owner (default: stamp.owner in .aionctl.yaml, else git config user.name, else the OS user).',
  },
  author: { type: 'string', description: 'Set author (default: stamp.author, else the owner).' },
  copyright: { type: 'string', description: 'Set copyright (default: stamp.copyright, else the owner).' },
  description: { type: 'string', description: 'Set description (default: stamp.description).' },
  lifecycle: { type: 'string', description: 'Set lifecycle.', options: LIFECYCLES },
  'runtime-language-hint': {
    type: 'string',
    description: 'Set runtime_language_hint (default: the file language).',
  },
  'meta-type': { type: 'string', description: 'Set meta_type (default: tool).' },
  'state-contract': { type: 'string', description: 'Set state_contract (default: state_contract://default).' },
  jobs: {
    type: 'integer',
    char: 'j',
    min: 1,
    max: 1024,
    description: 'Files written at once (default: min(64, 4 x CPUs)); reads run one at a time, which is fastest.',
  },
  threads: {
    type: 'integer',
    min: 1,
    max: 64,
    description:
      'Threads that read and hash files, main thread included (default: one per CPU, at most 8, with 4+ CPUs and 1,000+ files).',
  },
  cache: {
    type: 'boolean',
    default: true,
    allowNo: true,
    description:
      'Skip files unchanged (size, mtime, ctime, inode) since a run found them current; --no-cache reads every file.',
  },
  quiet: {
    type: 'boolean',
    char: 'q',
    description: 'Print only errors and the files stamp changed (the exit code tells the rest).',
  },
  verbose: { type: 'boolean', char: 'v', description: 'Also list unchanged and skipped files with the reason.' },
} satisfies Record<string, FlagSpec>;

export const stampSpec = {
  flags: stampFlags,
  args: { paths: { description: 'Files or directories (default: the current directory).', required: false } },
  strict: false,
} satisfies CommandSpec;

type StampFlags = SpecValues<typeof stampFlags>;

const CHANGE_TEXT: Record<string, string> = {
  missing: 'no metadata block',
  stale: 'stale hash: edited since it was stamped',
  updated: 'new field values',
  noncanonical: 'block not in canonical form',
};

/** Flags that set a field on every stamped file, and the config key that gives its default. */
const FIELD_FLAGS = {
  owner: 'owner',
  author: 'author',
  copyright: 'copyright',
  description: 'description',
  lifecycle: 'lifecycle',
  'runtime-language-hint': 'runtime_language_hint',
  'meta-type': 'meta_type',
  'state-contract': 'state_contract',
} as const;

export async function runStampCommand(io: CommandIo, parsed: ParsedArgv): Promise<StampRunResult> {
  const flags = parsed.flags as StampFlags;
  const cwd = process.cwd();
  // `git config user.name` runs while the configuration loads; not at all when --owner decides every owner, nor
  // for a plain --check: whether a file is current never depends on the default owner (a block that lacks the
  // field is stale whatever its value), only the text a --diff shows and the hash --json reports do.
  const needsOwner = flags.owner === undefined && (!flags.check || flags.diff || io.jsonEnabled());
  const ownerGuess = needsOwner ? defaultOwner(cwd, process.env) : undefined;
  const paths = resolvePaths(process.env);
  const loaded = await loadConfig(cwd, paths.config);
  const stampConfig: StampConfig = loaded.config.stamp ?? {};
  const defaults = fieldDefaults(stampConfig);
  for (const w of loaded.warnings) io.warnLine(w);
  assertOneLineValues(defaults, (field) => `stamp.${field} in ${loaded.projectFile ?? 'the configuration'}`);
  const overrides: FieldValues = {};
  const flagOf: Record<string, string> = {};
  for (const [flag, field] of Object.entries(FIELD_FLAGS)) {
    const value = flags[flag as keyof typeof FIELD_FLAGS];
    if (value !== undefined) overrides[field] = value;
    flagOf[field] = `--${flag}`;
  }
  assertOneLineValues(overrides, (field) => flagOf[field] ?? field);
  if (ownerGuess) defaults.owner ??= await ownerGuess;
  const debug = flags.debug === true || debugInEnv(process.env);
  const files = parsed.argv;
  if (flags['regenerate-uuid'] && files.length === 0) {
    throw new AionError('CI001', '--regenerate-uuid needs the files to renumber', {
      hint: 'name them: aionctl stamp --regenerate-uuid path/to/copy.py',
    });
  }
  const result = await stampFiles({
    cwd,
    env: process.env,
    paths: files,
    exclude: flags.exclude ?? [],
    ignore: stampConfig.ignore ?? [],
    projectRoot: loaded.projectRoot,
    // As parsed: an absent --check stays absent from the --json result, as it always has.
    check: flags.check as boolean,
    strict: flags.strict === true,
    concurrency: flags.jobs,
    threads: flags.threads,
    diff: flags.diff,
    cache: flags.cache
      ? {
          dir: paths.cache,
          version: io.version,
          debug: debug ? (line) => process.stderr.write(`debug: ${line}\n`) : undefined,
        }
      : undefined,
    context: {
      now: stampNow(process.env),
      newUuid: randomUUID,
      defaults,
      overrides,
      regenerateUuid: flags['regenerate-uuid'] === true,
    },
  });
  report(io, result, flags.quiet ?? false, flags.verbose ?? false, flags.diff ?? false);
  io.setExitCode(result.exitCode);
  return result;
}

function report(io: CommandIo, result: StampRunResult, quiet: boolean, verbose: boolean, diff: boolean): void {
  if (io.jsonEnabled()) return;
  // With --diff, stdout carries the patch and nothing else (`stamp --check --diff | git apply`): status to stderr.
  const status = (line: string) => (diff ? process.stderr.write(`${line}\n`) : io.log(line));
  for (const file of result.files) {
    if (file.status === 'error') printError(io, file);
    else if (file.status === 'stamped') {
      // Files changed on disk are always named, --quiet or not (the pre-commit hook relies on it).
      status(`${file.path}: stamped (${changeText(file)})`);
      if (file.diff) process.stdout.write(file.diff);
    } else if (quiet) continue;
    else if (file.status === 'would-stamp') {
      status(`${file.path}: would stamp (${changeText(file)})`);
      if (file.diff) process.stdout.write(file.diff);
    } else if (verbose && file.status === 'skipped') {
      status(`${file.path}: skipped (${SKIP_REASONS[file.reason as SkipReason] ?? file.reason})`);
    } else if (verbose && file.status === 'unchanged') status(`${file.path}: up to date`);
  }
  for (const dup of result.duplicates) {
    process.stderr.write(
      `${io.err('red', 'error')} MD007: uuid ${dup.uuid} is shared by ${dup.paths.join(', ')}\n` +
        `  hint: give the copies a fresh uuid: aionctl stamp --regenerate-uuid ${dup.paths.slice(1).join(' ')}\n`,
    );
  }
  if (quiet) return;
  const s = result.summary;
  const parts = result.check
    ? [`${s['would-stamp']} to stamp`, `${s.unchanged} up to date`]
    : [`${s.stamped} stamped`, `${s.unchanged} unchanged`];
  parts.push(`${s.skipped} skipped`, `${s.error} error${s.error === 1 ? '' : 's'}`);
  if (s.duplicates) parts.push(`${s.duplicates} duplicate uuid${s.duplicates === 1 ? '' : 's'}`);
  status(`${result.check ? 'check' : 'stamp'}: ${result.files.length} files: ${parts.join(', ')}`);
}

function printError(io: CommandIo, file: FileResult): void {
  if (!file.error) return;
  const e = file.error as { code: string; message: string; hint?: string; position?: { file: string } };
  const where = formatPosition(e.position as Parameters<typeof formatPosition>[0]) ?? file.path;
  // Messages that already start with the path (fs errors: "PATH does not exist") are not prefixed twice.
  const message = e.message.startsWith(`${file.path}: `) ? e.message.slice(file.path.length + 2) : e.message;
  if (message.startsWith(`${file.path} `)) {
    process.stderr.write(`${io.err('red', 'error')} ${e.code}: ${message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    return;
  }
  process.stderr.write(`${io.err('red', 'error')} ${e.code}: ${where}: ${message}\n`);
  if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
}

function changeText(file: FileResult): string {
  if (file.reason === 'updated' && file.fields && file.fields.length > 0) return `new ${file.fields.join(', ')}`;
  return CHANGE_TEXT[file.reason as string] ?? String(file.reason);
}

/** Stamp defaults from the configuration (types and the lifecycle value were checked by the config schema). */
function fieldDefaults(config: StampConfig): FieldValues {
  const defaults: FieldValues = {};
  for (const key of [
    'owner',
    'author',
    'copyright',
    'description',
    'version',
    'runtime_language_hint',
    'lifecycle',
    'state_contract',
    'meta_type',
  ] as const) {
    const value = config[key];
    if (value !== undefined) defaults[key] = value;
  }
  return defaults;
}
