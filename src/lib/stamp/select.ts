import { lstatSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import type { AionError } from '../errors/index.js';
import { stampFsError as fsError } from './fs-errors.js';

/** Directories never descended into, in git repos too (build output and vendored packages are not ours). */
export const PRUNED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', 'dist']);
const PRUNED_RE = /(?:^|\/)(?:node_modules|\.git|dist)\//;

export interface SelectOptions {
  cwd: string;
  paths: string[];
  /** `--exclude` globs, relative to cwd. */
  exclude: string[];
  /** `.aionctl.yaml` `stamp.ignore` globs, relative to `projectRoot`. */
  ignore: string[];
  projectRoot?: string;
  /**
   * The environment git would run with. Given, and with neither GIT_DIR nor GIT_WORK_TREE set, a directory with no
   * `.git` in it or above it is walked without asking git (spawning git costs tens of ms of start-up).
   */
  env?: NodeJS.ProcessEnv;
}

export interface Candidate {
  /** Absolute path. */
  abs: string;
  /** As shown to the user: relative to cwd. */
  display: string;
  /** Named on the command line (a missing one is an error; walked ones that vanished are not). */
  explicit: boolean;
}

export interface Selection {
  files: Candidate[];
  errors: Array<{ display: string; error: AionError }>;
  /** Symlinks met while walking: reported, never followed. */
  symlinks: string[];
}

type Matcher = (path: string) => boolean;
type Picomatch = (glob: string | string[], options?: { dot?: boolean }) => Matcher;

// Loaded on first use: most runs have no globs, and the import costs start-up time.
let picomatchFn: Picomatch | undefined;
function picomatch(glob: string | string[], options?: { dot?: boolean }): Matcher {
  picomatchFn ??= createRequire(import.meta.url)('picomatch') as Picomatch;
  return picomatchFn(glob, options);
}

/** gitignore-like globs: a pattern without `/` matches at any depth, and a directory match covers its contents. */
export function globMatcher(patterns: string[]): Matcher | undefined {
  if (patterns.length === 0) return undefined;
  const expanded = patterns.flatMap((raw) => {
    let p = raw.trim().replace(/\\/g, '/');
    if (p === '') return [];
    const anchored = p.startsWith('/') || p.replace(/\/$/, '').includes('/');
    p = p.replace(/^\//, '').replace(/^\.\//, '').replace(/\/$/, '');
    const base = anchored ? p : `**/${p}`;
    return [base, `${base}/**`];
  });
  return picomatch(expanded, { dot: true });
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** Turns PATHS into the files to process, honouring .gitignore, pruned dirs, --exclude and config ignores. */
export async function selectFiles(options: SelectOptions): Promise<Selection> {
  const excludeCwd = globMatcher(options.exclude);
  const ignoreRoot = globMatcher(options.ignore);
  const root = options.projectRoot ?? options.cwd;
  const excluded = (abs: string): boolean => {
    if (excludeCwd) {
      const rel = toPosix(relative(options.cwd, abs));
      if (!rel.startsWith('..') && excludeCwd(rel)) return true;
    }
    if (ignoreRoot) {
      const rel = toPosix(relative(root, abs));
      if (!rel.startsWith('..') && ignoreRoot(rel)) return true;
    }
    return false;
  };
  const selection: Selection = { files: [], errors: [], symlinks: [] };
  const seen = new Set<string>();
  const filtering = excludeCwd !== undefined || ignoreRoot !== undefined;
  const add = (abs: string, display: string, explicit: boolean) => {
    if (seen.has(abs) || (filtering && excluded(abs))) return;
    seen.add(abs);
    selection.files.push({ abs, display, explicit });
  };
  for (const path of options.paths.length > 0 ? options.paths : ['.']) {
    const abs = resolve(options.cwd, path);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(abs);
    } catch (err) {
      selection.errors.push({ display: path, error: fsError(err, path) });
      continue;
    }
    if (info.isSymbolicLink()) selection.symlinks.push(path);
    else if (info.isDirectory()) {
      const git = options.env === undefined || mayBeInGitWorkTree(abs, options.env);
      const listed = (git ? await gitListFiles(abs) : undefined) ?? (await walkDirectory(abs));
      const shownDir = relative(options.cwd, abs);
      const absDir = abs.endsWith(sep) ? abs : abs + sep;
      for (const rel of listed) {
        if (PRUNED_RE.test(rel)) continue;
        const native = sep === '/' ? rel : rel.split('/').join(sep);
        add(absDir + native, shownDir ? join(shownDir, native) : native, false);
      }
    } else add(abs, relative(options.cwd, abs) || abs, true);
  }
  return selection;
}

/**
 * Whether git could see `dir` as part of a work tree: a `.git` (directory or gitfile) in it or an ancestor, or an
 * environment that points git elsewhere. No `.git` anywhere above means `git ls-files` would fail anyway.
 */
export function mayBeInGitWorkTree(dir: string, env: NodeJS.ProcessEnv): boolean {
  if (env.GIT_DIR !== undefined || env.GIT_WORK_TREE !== undefined) return true;
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (lstatSync(join(d, '.git'), { throwIfNoEntry: false }) !== undefined) return true;
    } catch {
      return true; // cannot tell (EACCES...): ask git
    }
    if (dirname(d) === d) return false;
  }
}

/** `git ls-files` in a work tree (tracked + untracked, .gitignore honoured); undefined outside git. */
async function gitListFiles(dir: string): Promise<string[] | undefined> {
  // Loaded here: node:child_process pulls in net and streams, start-up time a run outside git does not need.
  const { execFile } = await import('node:child_process');
  return new Promise((done) => {
    execFile(
      'git',
      ['-C', dir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'],
      { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout) => done(err ? undefined : stdout.split('\0').filter((p) => p !== '')),
    );
  });
}

interface IgnoreRule {
  base: string;
  negate: boolean;
  dirOnly: boolean;
  anchored: boolean;
  match: Matcher;
}

function parseGitignore(text: string, base: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    if (line.startsWith('\\')) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    line = line.replace(/^\//, '');
    if (line === '') continue;
    rules.push({ base, negate, dirOnly, anchored, match: picomatch(line, { dot: true }) });
  }
  return rules;
}

/** Outside git: a walk that reads each directory's .gitignore, prunes, and never follows symlinks. */
async function walkDirectory(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (relDir: string, rules: IgnoreRule[]) => {
    const dir = join(root, relDir);
    let local = rules;
    try {
      local = [...rules, ...parseGitignore(await readFile(join(dir, '.gitignore'), 'utf8'), relDir)];
    } catch {
      // no .gitignore here
    }
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (isDir && PRUNED_DIRS.has(entry.name)) continue;
      if (isIgnored(local, rel, entry.name, isDir)) continue;
      if (isDir) await visit(rel, local);
      else out.push(rel);
    }
  };
  await visit('', []);
  return out;
}

function isIgnored(rules: IgnoreRule[], rel: string, name: string, isDir: boolean): boolean {
  let ignored = false;
  for (const rule of rules) {
    if (rule.dirOnly && !isDir) continue;
    const target = rule.anchored ? (rule.base ? rel.slice(rule.base.length + 1) : rel) : name;
    if (rule.match(target)) ignored = !rule.negate;
  }
  return ignored;
}
