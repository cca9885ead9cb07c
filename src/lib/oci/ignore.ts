/**
 * Which files of a package directory `pack` leaves out: gitignore syntax, as `npm pack` reads `.npmignore`.
 *
 * - `.aionctlignore` at the package root if present, else `.gitignore` at the root (only the root file is read).
 * - Built-in rules come first, so a package's own file can override them: `node_modules/` is ignored
 *   (`!node_modules/` packs it again).
 * - A path with any segment starting with `.` (dotfiles, `.git/`, `.env`, `.aionctl.yaml`) is never packed, and no
 *   rule can re-include it: `pull -o` refuses such titles.
 *
 * Pattern rules (git's): blank lines and `#` lines are skipped; `\#` and `\!` escape; trailing unescaped spaces are
 * dropped; `!` re-includes; a trailing `/` matches directories only; a `/` at the start or in the middle anchors
 * the pattern to the root, otherwise it matches at any depth; `*` and `?` never match `/`; `[a-z]`/`[!a-z]` are
 * classes; a leading `**` segment matches in any directory, a trailing `/**` everything inside, a middle `**` segment
 * zero or more directories. A file inside an ignored directory cannot be re-included (as in git), except through a rule that
 * names the directory itself.
 */

export interface IgnoreRule {
  /** The line as written (for messages). */
  source: string;
  negated: boolean;
  directoryOnly: boolean;
  regex: RegExp;
}

export interface IgnoreMatcher {
  /** True when `path` (POSIX, relative to the package root) is left out; `isDirectory` for directory rules. */
  ignores(path: string, isDirectory: boolean): boolean;
  /**
   * The rules for `path` itself, its directories taken as not ignored (a walker that prunes ignored directories
   * has checked them): the fast path of `listPackageFiles`. Dot segments are still refused.
   */
  ignoresSelf(path: string, isDirectory: boolean): boolean;
  readonly rules: readonly IgnoreRule[];
}

/** The rules every package starts with (before its own ignore file). */
export const DEFAULT_IGNORE_RULES: readonly string[] = ['node_modules/'];

/** The ignore files read, in order of preference: the first that exists wins. */
export const IGNORE_FILES: readonly string[] = ['.aionctlignore', '.gitignore'];

/** Parses gitignore text into rules (pure). */
export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const rule = parseLine(raw);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** A matcher over the default rules followed by `text` (the package's ignore file, if any). */
export function createIgnoreMatcher(text = '', defaults: readonly string[] = DEFAULT_IGNORE_RULES): IgnoreMatcher {
  const rules = [...parseIgnore(defaults.join('\n')), ...parseIgnore(text)];
  const decide = (path: string, isDirectory: boolean): boolean | undefined => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i] as IgnoreRule;
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.regex.test(path)) return !rule.negated;
    }
    return undefined;
  };
  return {
    rules,
    ignores(path: string, isDirectory: boolean): boolean {
      const segments = path.split('/').filter((s) => s !== '');
      if (segments.some((s) => s.startsWith('.'))) return true;
      for (let i = 1; i < segments.length; i++) {
        if (decide(segments.slice(0, i).join('/'), true) === true) return true;
      }
      return decide(segments.join('/'), isDirectory) === true;
    },
    ignoresSelf(path: string, isDirectory: boolean): boolean {
      const base = path.slice(path.lastIndexOf('/') + 1);
      if (base.startsWith('.')) return true;
      return decide(path, isDirectory) === true;
    },
  };
}

function parseLine(raw: string): IgnoreRule | undefined {
  let line = raw;
  // trailing spaces are dropped unless escaped with a backslash
  line = line.replace(/(?<!\\)[ \t]+$/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  let negated = false;
  if (line.startsWith('!')) {
    negated = true;
    line = line.slice(1);
  } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
    line = line.slice(1);
  }
  let directoryOnly = false;
  if (line.endsWith('/') && !line.endsWith('\\/')) {
    directoryOnly = true;
    line = line.replace(/\/+$/, '');
  }
  if (line === '') return undefined;
  // a slash at the start or in the middle anchors the pattern to the root
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  let body: string;
  if (line.startsWith('**/')) {
    body = `(?:.*/)?${translate(line.slice(3))}`;
  } else {
    body = translate(line);
    if (!anchored) body = `(?:.*/)?${body}`;
  }
  return { source: raw, negated, directoryOnly, regex: new RegExp(`^${body}$`, 'u') };
}

/** Glob (without a leading `**` segment) to a regex source over whole POSIX paths. */
function translate(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      if (glob[i + 1] === '*') {
        const end = i + 2 === glob.length;
        const slashAfter = glob[i + 2] === '/';
        if (atStart && end) {
          out += '.*';
          i += 2;
          continue;
        }
        if (atStart && slashAfter) {
          // `a/**/b`: zero or more directories
          out += '(?:.*/)?';
          i += 3;
          continue;
        }
        // `**` not alone in its segment behaves like `*`
        out += '[^/]*';
        while (glob[i] === '*') i++;
        continue;
      }
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const close = classEnd(glob, i);
      if (close === -1) {
        out += '\\[';
        i++;
        continue;
      }
      let inner = glob.slice(i + 1, close);
      let negate = false;
      if (inner.startsWith('!') || inner.startsWith('^')) {
        negate = true;
        inner = inner.slice(1);
      }
      const escaped = inner.replace(/\\(.)/g, '$1').replace(/[\\\]^]/g, '\\$&');
      out += negate ? `(?!/)[^${escaped}]` : `[${escaped}]`;
      i = close + 1;
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[i + 1] as string);
      i += 2;
    } else {
      out += escapeRegex(c);
      i++;
    }
  }
  return out;
}

function classEnd(glob: string, open: number): number {
  let j = open + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++;
  for (; j < glob.length; j++) {
    if (glob[j] === '\\') j++;
    else if (glob[j] === ']') return j;
  }
  return -1;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
