import { AionError } from '../errors/index.js';
import { findDuplicateKeys } from '../manifest/unique-keys.js';
import { type Fields, isSafePlain, KNOWN_FIELDS } from './fields.js';
import { CLOSE_TEXT, type CommentStyle, OPEN_TEXT } from './styles.js';
import { type Line, lineAt, lineNumberAt } from './text.js';

/** A block found right after the preamble. Offsets are into the decoded text (BOM removed). */
export interface FoundBlock {
  /** Offset of the opener line. */
  start: number;
  /** Offset just past the closer line's ending. */
  end: number;
  fields: Fields;
  /** 1-based line of the opener, for messages. */
  line: number;
}

type Where = (offset: number, col?: number) => { file: string; line: number; col: number };

/** Is this line an opener? `per-line` is the old Markdown form that wraps every line in its own `<!-- -->`. */
function openerKind(content: string, style: CommentStyle): 'block' | 'per-line' | undefined {
  const s = content.trim();
  if (style.kind === 'line') {
    if (s.startsWith(style.prefix!) && s.slice(style.prefix!.length).trim() === OPEN_TEXT) return 'block';
    return undefined;
  }
  if (style.id === 'css') return s.startsWith('/*') && s.slice(2).trim() === OPEN_TEXT ? 'block' : undefined;
  if (!s.startsWith('<!--')) return undefined;
  const inner = s.slice(4).trim();
  if (inner === OPEN_TEXT) return 'block';
  if (inner.endsWith('-->') && inner.slice(0, -3).trim() === OPEN_TEXT) return 'per-line';
  return undefined;
}

function isCloser(content: string, style: CommentStyle): boolean {
  let s = content.trim();
  if (style.kind === 'line') return s.startsWith(style.prefix!) && s.slice(style.prefix!.length).trim() === CLOSE_TEXT;
  if (style.id === 'css') return s.endsWith('*/') && s.slice(0, -2).trim() === CLOSE_TEXT;
  if (!s.endsWith('-->')) return false;
  s = s.slice(0, -3).trim();
  if (s.startsWith('<!--')) s = s.slice(4).trim();
  return s === CLOSE_TEXT;
}

/** Opener text in any comment style, so a second opener is caught even when written in another style. */
function looksLikeOpener(content: string): boolean {
  const s = content.trim();
  return s.includes(OPEN_TEXT) && !s.includes(CLOSE_TEXT);
}

/**
 * Looks for the block at `pos` (the first non-blank line after the preamble). Only that one comment is
 * considered: the rest of the file is never searched. Malformed blocks throw MD001–MD004 with file:line:col.
 */
export function locateBlock(text: string, pos: number, style: CommentStyle, file: string): FoundBlock | undefined {
  const first = lineAt(text, pos);
  if (!first) return undefined;
  const kind = openerKind(text.slice(first.start, first.end), style);
  if (!kind) return undefined;
  const where: Where = (offset, col = 1) => ({ file, line: lineNumberAt(text, offset), col });
  const body: Line[] = [];
  let closer: Line | undefined;
  for (let line = lineAt(text, first.next); line; line = lineAt(text, line.next)) {
    const content = text.slice(line.start, line.end);
    if (isCloser(content, style)) {
      closer = line;
      break;
    }
    if (looksLikeOpener(content)) {
      throw new AionError('MD002', `${file}: a second metadata block opener inside the block`, {
        position: where(line.start, content.indexOf('=') + 1),
        hint: `remove one of the two openers (the first is on line ${lineNumberAt(text, first.start)}); the file was not changed`,
      });
    }
    body.push(line);
    if (line.next === line.end) break;
  }
  if (!closer) {
    throw new AionError('MD001', `${file}: the metadata block has no closer`, {
      position: where(first.start),
      hint: `add the closing line "${style.closer}" after the fields; the file was not changed`,
    });
  }
  const { yamlText, colShift } = extractYaml(text, body, style, kind);
  const fields = parseFields(yamlText, (yamlLine, col) => {
    const at = body[Math.min(yamlLine - 1, body.length - 1)];
    return at ? where(at.start, col + (colShift[yamlLine - 1] ?? 0)) : where(first.start);
  });
  return { start: first.start, end: closer.next, fields, line: lineNumberAt(text, first.start) };
}

/** A double-quoted value JSON reads as its inner text: no escape, no quote, no control character. */
const PLAIN_QUOTED = /^"[^"\\\x00-\x1f]*"$/;

/**
 * The block at `pos` when it is in the canonical form this tool writes (exact opener and closer lines, one
 * `key: value` per line, every line ending in `eol`): found with one pass and no YAML. Undefined whenever anything
 * differs, even harmlessly: `locateBlock` then decides (and reports errors) as it always has.
 */
export function locateCanonical(text: string, pos: number, style: CommentStyle, eol: string): FoundBlock | undefined {
  const { opener, closer } = style;
  if (!text.startsWith(opener, pos) || !text.startsWith(eol, pos + opener.length)) return undefined;
  const linePrefix = style.kind === 'line' ? `${style.prefix} ` : '';
  const fieldsStart = pos + opener.length + eol.length;
  const fields: Fields = new Map();
  let at = fieldsStart;
  for (;;) {
    const lineEnd = text.indexOf(eol, at);
    if (lineEnd < 0) return undefined;
    if (lineEnd - at === closer.length && text.startsWith(closer, at)) {
      // A second opener inside the block (MD002) is for locateBlock to report.
      const opener2 = text.indexOf(OPEN_TEXT, fieldsStart);
      if (fields.size === 0 || (opener2 >= 0 && opener2 < at)) return undefined;
      return { start: pos, end: lineEnd + eol.length, fields, line: lineNumberAt(text, pos) };
    }
    if (linePrefix) {
      if (!text.startsWith(linePrefix, at)) return undefined;
      at += linePrefix.length;
    }
    const colon = text.indexOf(': ', at);
    if (colon <= at || colon >= lineEnd) return undefined;
    const key = text.slice(at, colon);
    if ((!KNOWN_FIELDS.has(key) && !SIMPLE_KEY.test(key)) || fields.has(key)) return undefined;
    const value = canonicalValue(text.slice(colon + 2, lineEnd));
    if (value === undefined) return undefined;
    fields.set(key, value);
    at = lineEnd + eol.length;
  }
}

/** The YAML between the delimiters: `# `-prefixed lines lose their prefix; raw YAML (ONEX's YAML form) is kept. */
function extractYaml(
  text: string,
  body: Line[],
  style: CommentStyle,
  kind: 'block' | 'per-line',
): { yamlText: string; colShift: number[] } {
  const lines = body.map((l) => text.slice(l.start, l.end));
  const colShift: number[] = [];
  let out: string[];
  if (kind === 'per-line') {
    out = lines.map((l) => {
      const m = /^(\s*<!--\s?)(.*?)\s*-->\s*$/.exec(l);
      colShift.push(m ? m[1]!.length : 0);
      return m ? m[2]! : l;
    });
  } else if (style.kind === 'line') {
    const prefix = style.prefix!;
    const prefixed = lines.every((l) => l.trim() === '' || l.trimStart().startsWith(prefix));
    out = lines.map((l) => {
      if (!prefixed) {
        colShift.push(0);
        return l;
      }
      const i = l.indexOf(prefix);
      if (i < 0) {
        colShift.push(0);
        return '';
      }
      const cut = i + prefix.length + (l[i + prefix.length] === ' ' ? 1 : 0);
      colShift.push(cut);
      return l.slice(cut);
    });
  } else {
    out = lines;
    for (let i = 0; i < lines.length; i++) colShift.push(0);
  }
  return { yamlText: out.join('\n'), colShift };
}

// The canonical form this tool writes: one `key: value` per line, value plain-safe or a JSON string.
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * One value of the canonical form: plain-safe text as is, or a JSON string (JSON decides escapes; it also refuses a
 * raw CR or LF, which would be a line break to locateBlock); undefined when the full YAML parser must decide.
 */
function canonicalValue(raw: string): string | undefined {
  if (raw.charCodeAt(0) !== 34) return isSafePlain(raw) ? raw : undefined;
  if (PLAIN_QUOTED.test(raw)) return raw.slice(1, -1);
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Fast path for the canonical form (no YAML library needed); undefined when the text needs the full parser. */
function parseSimple(yamlText: string): Fields | undefined {
  const fields: Fields = new Map();
  for (const line of yamlText.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon < 1) return undefined;
    const key = line.slice(0, colon);
    if (!SIMPLE_KEY.test(key) || fields.has(key)) return undefined;
    const value = canonicalValue(line.slice(colon + 2));
    if (value === undefined) return undefined;
    fields.set(key, value);
  }
  return fields;
}

/** Aliases expanded per block: a metadata block has no use for them, a billion-laughs block stops here. */
const MAX_ALIASES = 100;

type Locate = (yamlLine: number, col: number) => { file: string; line: number; col: number };

let yamlModule: typeof import('yaml') | undefined;
/** The YAML library is loaded only for blocks not in canonical form (it costs start-up time otherwise). */
export async function loadYaml(): Promise<typeof import('yaml')> {
  yamlModule ??= await import('yaml');
  return yamlModule;
}

function parseFields(yamlText: string, locate: Locate): Fields {
  const simple = yamlText.trim() === '' ? new Map() : parseSimple(yamlText);
  if (simple) return simple;
  if (!yamlModule) throw new NeedsYaml();
  const { parseDocument, isMap, isScalar, isNode } = yamlModule;
  const doc = parseDocument(yamlText, { uniqueKeys: false, prettyErrors: true, schema: 'core' });
  const firstError = doc.errors[0];
  const duplicate = firstError ? undefined : findDuplicateKeys(doc.contents, 1)[0];
  if (duplicate) {
    const lineNo = yamlText.slice(0, duplicate.offset).split('\n').length;
    throw new AionError('MD003', `the metadata block is not valid YAML: duplicate key "${duplicate.key}"`, {
      position: locate(lineNo, duplicate.offset - yamlText.lastIndexOf('\n', duplicate.offset - 1)),
      hint: 'keep one line per field; the file was not changed',
    });
  }
  if (firstError) {
    const pos = firstError.linePos?.[0];
    // The library's "at line N, column M" counts inside the block; the position below is in the file.
    const reason = (firstError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new AionError('MD003', `the metadata block is not valid YAML: ${reason}`, {
      position: locate(pos?.line ?? 1, pos?.col ?? 1),
      hint: 'fix the YAML between the block delimiters; the file was not changed',
    });
  }
  if (!isMap(doc.contents)) {
    throw new AionError('MD003', 'the metadata block is not a YAML mapping of fields', {
      position: locate(1, 1),
      hint: 'write one "key: value" line per field; the file was not changed',
    });
  }
  const fields: Fields = new Map();
  const lineOf = (offset: number) => yamlText.slice(0, offset).split('\n').length;
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const node = pair.value;
    let value: unknown;
    try {
      value = isNode(node) ? node.toJS(doc, { maxAliasCount: MAX_ALIASES }) : node;
    } catch (err) {
      // An alias flood (billion laughs) or a cyclic alias: a bad block, never a file-system error.
      const offset = isNode(node) && node.range ? node.range[0] : 0;
      throw new AionError('MD003', `the metadata block is not usable YAML: ${(err as Error).message}`, {
        position: locate(lineOf(offset), offset - yamlText.lastIndexOf('\n', offset - 1)),
        hint: `write plain values (aliases are capped at ${MAX_ALIASES}); the file was not changed`,
      });
    }
    // A known field is text: keep `version: 1.0` as written rather than the number 1 (read without loss).
    if (KNOWN_FIELDS.has(key) && typeof value !== 'string' && isScalar(node) && node.range) {
      value = value === null ? '' : yamlText.slice(node.range[0], node.range[1]).trim();
    }
    if (KNOWN_FIELDS.has(key) && typeof value !== 'string') {
      const offset = isNode(node) && node.range ? node.range[0] : 0;
      throw new AionError('MD004', `field "${key}" must be a single text value`, {
        position: locate(lineOf(offset), offset - yamlText.lastIndexOf('\n', offset - 1)),
        hint: 'write the field as one line of text; the file was not changed',
      });
    }
    fields.set(key, value);
  }
  return fields;
}

/** Thrown when the fast path cannot read the block; the caller loads the YAML library and retries. */
export class NeedsYaml extends Error {}
