/**
 * Which comment style a file gets, chosen from its name alone (no content sniffing): whole file name first
 * (Dockerfile, Makefile, .gitignore), then the lower-cased extension. Unknown names are skipped, never guessed.
 */

export type StyleId = 'hash' | 'slash' | 'dashdash' | 'css' | 'html' | 'xml';

export interface CommentStyle {
  readonly id: StyleId;
  /** Line styles prefix every block line; block styles wrap the raw YAML in one comment. */
  readonly kind: 'line' | 'block';
  /** Line prefix (`#`, `//`, `--`) for line styles. */
  readonly prefix?: string;
  /** The opener and closer lines as written. */
  readonly opener: string;
  readonly closer: string;
  /** Other closers accepted when reading (the XML and HTML forms read each other's). */
  readonly altClosers?: readonly string[];
  /** Substrings that would end the comment early (MD005 when a value contains one). */
  readonly forbidden: readonly string[];
}

export const OPEN_TEXT = '=== OmniNode:Metadata ===';
export const CLOSE_TEXT = '=== /OmniNode:Metadata ===';

function lineStyle(id: StyleId, prefix: string): CommentStyle {
  return {
    id,
    kind: 'line',
    prefix,
    opener: `${prefix} ${OPEN_TEXT}`,
    closer: `${prefix} ${CLOSE_TEXT}`,
    forbidden: [],
  };
}

export const STYLES: Record<StyleId, CommentStyle> = {
  hash: lineStyle('hash', '#'),
  slash: lineStyle('slash', '//'),
  dashdash: lineStyle('dashdash', '--'),
  css: { id: 'css', kind: 'block', opener: `/* ${OPEN_TEXT}`, closer: `${CLOSE_TEXT} */`, forbidden: ['*/'] },
  // CommonMark and HTML end a comment at `-->` (and `--!>`); the ONEX form repeats `<!--` on the closer line.
  html: {
    id: 'html',
    kind: 'block',
    opener: `<!-- ${OPEN_TEXT}`,
    closer: `<!-- ${CLOSE_TEXT} -->`,
    altClosers: [`${CLOSE_TEXT} -->`],
    forbidden: ['-->', '--!>'],
  },
  // XML 1.0 §2.5 forbids `--` anywhere inside a comment, so the closer carries no inner `<!--`.
  xml: {
    id: 'xml',
    kind: 'block',
    opener: `<!-- ${OPEN_TEXT}`,
    closer: `${CLOSE_TEXT} -->`,
    altClosers: [`<!-- ${CLOSE_TEXT} -->`],
    forbidden: ['--'],
  },
};

/** What a stampable file type is: its comment style and the language named in `entrypoint`. */
export interface FileType {
  readonly style: CommentStyle;
  /** `entrypoint` prefix and default `runtime_language_hint`, e.g. `python`, `typescript`. */
  readonly language: string;
  /** Preamble kinds this type may start with, besides a shebang (see preamble.ts). */
  readonly preamble: readonly PreambleKind[];
}

export type PreambleKind = 'coding' | 'docker' | 'xml' | 'php' | 'frontmatter';

function t(style: StyleId, language: string, preamble: PreambleKind[] = []): FileType {
  return { style: STYLES[style], language, preamble };
}

const BY_EXTENSION: Record<string, FileType> = {
  py: t('hash', 'python', ['coding']),
  pyi: t('hash', 'python', ['coding']),
  sh: t('hash', 'shell'),
  bash: t('hash', 'shell'),
  zsh: t('hash', 'shell'),
  rb: t('hash', 'ruby', ['coding']),
  pl: t('hash', 'perl', ['coding']),
  yaml: t('hash', 'yaml'),
  yml: t('hash', 'yaml'),
  toml: t('hash', 'toml'),
  tf: t('hash', 'terraform'),
  dockerfile: t('hash', 'docker', ['docker']),
  mk: t('hash', 'make'),
  ts: t('slash', 'typescript'),
  tsx: t('slash', 'typescript'),
  mts: t('slash', 'typescript'),
  cts: t('slash', 'typescript'),
  js: t('slash', 'javascript'),
  mjs: t('slash', 'javascript'),
  cjs: t('slash', 'javascript'),
  jsx: t('slash', 'javascript'),
  go: t('slash', 'go'),
  rs: t('slash', 'rust'),
  java: t('slash', 'java'),
  kt: t('slash', 'kotlin'),
  kts: t('slash', 'kotlin'),
  c: t('slash', 'c'),
  h: t('slash', 'c'),
  cc: t('slash', 'cpp'),
  cpp: t('slash', 'cpp'),
  hpp: t('slash', 'cpp'),
  cs: t('slash', 'csharp'),
  swift: t('slash', 'swift'),
  proto: t('slash', 'protobuf'),
  php: t('slash', 'php', ['php']),
  css: t('css', 'css'),
  scss: t('css', 'scss'),
  less: t('css', 'less'),
  md: t('html', 'markdown', ['frontmatter', 'xml']),
  markdown: t('html', 'markdown', ['frontmatter', 'xml']),
  html: t('html', 'html', ['xml']),
  htm: t('html', 'html', ['xml']),
  vue: t('html', 'vue'),
  svelte: t('html', 'svelte'),
  xml: t('xml', 'xml', ['xml']),
  svg: t('xml', 'svg', ['xml']),
  xsd: t('xml', 'xml', ['xml']),
  xsl: t('xml', 'xml', ['xml']),
  sql: t('dashdash', 'sql'),
  lua: t('dashdash', 'lua'),
  hs: t('dashdash', 'haskell'),
};

const BY_NAME: Record<string, FileType> = {
  dockerfile: t('hash', 'docker', ['docker']),
  containerfile: t('hash', 'docker', ['docker']),
  makefile: t('hash', 'make'),
  gnumakefile: t('hash', 'make'),
  '.gitignore': t('hash', 'gitignore'),
  '.dockerignore': t('hash', 'gitignore'),
  '.gitattributes': t('hash', 'gitattributes'),
  '.editorconfig': t('hash', 'editorconfig'),
};

/** aionctl's own files: its configuration and its lock file are read by aionctl, never stamped. */
const AIONCTL_FILES = new Set(['.aionctl.yaml', '.aionctl.yml', 'aionctl.lock']);

/** Files that are data, not prose or code: a comment would break them or they are rewritten by tools. */
const LOCK_NAMES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'cargo.lock',
  'go.sum',
  'poetry.lock',
  'pipfile.lock',
  'gemfile.lock',
  'composer.lock',
  'uv.lock',
]);
const JSON_EXTENSIONS = new Set(['json', 'jsonc', 'json5', 'jsonl', 'ndjson', 'ipynb', 'geojson', 'webmanifest']);

export type SkipReason =
  | 'unknown-type'
  | 'binary'
  | 'generated'
  | 'json'
  | 'lock-file'
  | 'aionctl-file'
  | 'empty'
  | 'too-large'
  | 'symlink'
  | 'not-a-file'
  | 'hard-link';

export const SKIP_REASONS: Record<SkipReason, string> = {
  'unknown-type': 'no comment style is known for this file type',
  binary: 'binary (NUL byte in the first 8000 bytes, or not valid UTF-8)',
  generated: 'generated file (`Code generated ... DO NOT EDIT.` or `@generated`)',
  json: 'JSON has no comments',
  'lock-file': 'lock file (written by a package manager)',
  'aionctl-file': "aionctl's own configuration or lock file",
  empty: 'empty file',
  'too-large': 'larger than 16 MiB',
  symlink: 'symbolic link (not followed)',
  'not-a-file': 'not a regular file (FIFO, socket or device)',
  'hard-link': 'has several hard links (stamping would split them: stamp one of the names with the link removed)',
};

/** The file type for a path (by base name), or why it is not stampable. */
export function fileTypeFor(fileName: string): FileType | SkipReason {
  const lower = fileName.toLowerCase();
  if (AIONCTL_FILES.has(lower)) return 'aionctl-file';
  if (LOCK_NAMES.has(lower) || lower.endsWith('.lock')) return 'lock-file';
  const byName = BY_NAME[lower];
  if (byName) return byName;
  const dot = lower.lastIndexOf('.');
  if (dot <= 0) {
    // `Dockerfile.dev`-style names have no extension we know; `x.dockerfile` is handled below.
    if (lower.startsWith('dockerfile.') || lower.startsWith('containerfile.')) return BY_NAME.dockerfile!;
    return 'unknown-type';
  }
  const ext = lower.slice(dot + 1);
  if (JSON_EXTENSIONS.has(ext)) return 'json';
  const byExt = BY_EXTENSION[ext];
  if (byExt) return byExt;
  if (lower.startsWith('dockerfile.') || lower.startsWith('containerfile.')) return BY_NAME.dockerfile!;
  return 'unknown-type';
}

/** The languages and extensions, for docs and `--help`. */
export function styleTable(): Array<{ style: StyleId; extensions: string[]; names: string[] }> {
  const rows = new Map<StyleId, { style: StyleId; extensions: string[]; names: string[] }>();
  for (const id of Object.keys(STYLES) as StyleId[]) rows.set(id, { style: id, extensions: [], names: [] });
  for (const [ext, type] of Object.entries(BY_EXTENSION)) rows.get(type.style.id)!.extensions.push(ext);
  for (const [name, type] of Object.entries(BY_NAME)) rows.get(type.style.id)!.names.push(name);
  return [...rows.values()];
}
