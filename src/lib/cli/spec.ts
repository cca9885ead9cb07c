// A command's flags and arguments as plain data, free of @oclif/core: the oclif command classes build their Flags
// and Args from it (oclif-spec.ts), and the start-up fast path (lite.ts) parses argv with it without loading oclif.

export interface FlagSpecBase {
  char?: string;
  summary?: string;
  description: string;
  helpGroup?: string;
}

export interface BooleanFlagSpec extends FlagSpecBase {
  type: 'boolean';
  default?: boolean;
  allowNo?: boolean;
}

export interface StringFlagSpec extends FlagSpecBase {
  type: 'string';
  default?: string;
  options?: readonly string[];
  /** Repeatable, one value per occurrence (oclif's multiple + multipleNonGreedy). */
  multiple?: boolean;
}

export interface IntegerFlagSpec extends FlagSpecBase {
  type: 'integer';
  default?: number;
  min?: number;
  max?: number;
}

export type FlagSpec = BooleanFlagSpec | StringFlagSpec | IntegerFlagSpec;

export interface ArgSpec {
  description: string;
  required?: boolean;
}

export interface CommandSpec {
  flags: Record<string, FlagSpec>;
  args: Record<string, ArgSpec>;
  /** false: any number of positional arguments (argv); true: exactly the declared args. */
  strict: boolean;
}

/** Flag values as oclif's parser returns them: absent flags without a default are absent. */
export type FlagValues = Record<string, boolean | string | number | string[] | undefined>;

export interface ParsedArgv {
  flags: FlagValues;
  args: Record<string, string | undefined>;
  /** Every positional argument, in order. */
  argv: string[];
}

/** The flags every aionctl command has: BaseCommand's `--debug` and oclif's `--json` (enableJsonFlag). */
const GLOBAL_BOOLEANS = new Set(['json', 'debug']);

/**
 * Parses argv the way oclif does for the common, unambiguous shapes: `--name`, `--name=value`, `--name value`,
 * `-c`, `-c value`, `--no-name` (allowNo), repeatable flags one value each, positionals. Returns undefined for
 * everything else (help, `--`, bundled short flags, unknown or repeated flags, missing or invalid values, wrong
 * argument counts): the caller then hands argv to oclif, whose parser gives the answer and the exact error text.
 */
export function parseArgvFast(spec: CommandSpec, argv: readonly string[]): ParsedArgv | undefined {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  const byChar = new Map<string, string>();
  for (const [name, flag] of Object.entries(spec.flags)) if (flag.char) byChar.set(flag.char, name);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--' || token === '-' || token === '--help' || token === '-h') return undefined;
    if (!token.startsWith('-')) {
      positionals.push(token);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
    } else {
      if (token.length !== 2) return undefined;
      const long = byChar.get(token[1]!);
      if (long === undefined) return undefined;
      name = long;
    }
    if (GLOBAL_BOOLEANS.has(name) && !(name in spec.flags)) {
      if (inline !== undefined || name in flags) return undefined;
      flags[name] = true;
      continue;
    }
    let flag = spec.flags[name];
    let negated = false;
    if (flag === undefined && name.startsWith('no-') && token.startsWith('--')) {
      const positive = spec.flags[name.slice(3)];
      if (positive?.type === 'boolean' && positive.allowNo) {
        flag = positive;
        name = name.slice(3);
        negated = true;
      }
    }
    if (flag === undefined) return undefined;
    if (flag.type === 'boolean') {
      if (inline !== undefined || name in flags) return undefined;
      flags[name] = !negated;
      continue;
    }
    let value = inline;
    if (value === '') return undefined;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) return undefined;
      value = next;
      i++;
    }
    if (flag.type === 'integer') {
      if (!/^-?\d+$/.test(value) || name in flags) return undefined;
      const number = Number.parseInt(value, 10);
      if ((flag.min !== undefined && number < flag.min) || (flag.max !== undefined && number > flag.max)) {
        return undefined;
      }
      flags[name] = number;
      continue;
    }
    if (flag.options && !flag.options.includes(value)) return undefined;
    if (flag.multiple) {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(value);
      flags[name] = list;
    } else {
      if (name in flags) return undefined;
      flags[name] = value;
    }
  }
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (!(name in flags) && flag.default !== undefined) flags[name] = flag.default;
  }
  const argNames = Object.keys(spec.args);
  if (spec.strict && positionals.length > argNames.length) return undefined;
  const args: Record<string, string | undefined> = {};
  for (const [i, argName] of argNames.entries()) {
    const value = positionals[i];
    if (value === undefined) {
      if (spec.args[argName]!.required) return undefined;
      continue;
    }
    args[argName] = value;
  }
  return { flags, args, argv: positionals };
}

type ValueOf<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'integer' }
    ? number
    : F extends { multiple: true }
      ? string[]
      : string;

/** The flag values a spec's flags parse to (with `--json` and `--debug`), as oclif's InferredFlags would type them. */
export type SpecValues<T extends Record<string, FlagSpec>> = {
  [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
} & { json?: boolean; debug?: boolean };
