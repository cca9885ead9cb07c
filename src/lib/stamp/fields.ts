/** The ONEX metadata fields: fixed order, defaults, validation and the YAML text of one value. */
import { canonicalJson } from '../json/index.js';

export const FIELD_ORDER = [
  'metadata_version',
  'protocol_version',
  'owner',
  'copyright',
  'schema_version',
  'name',
  'version',
  'uuid',
  'author',
  'created_at',
  'last_modified_at',
  'description',
  'state_contract',
  'lifecycle',
  'hash',
  'entrypoint',
  'runtime_language_hint',
  'namespace',
  'meta_type',
] as const;

export type FieldName = (typeof FIELD_ORDER)[number];
export const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELD_ORDER);

/** A block's fields in order: the known ones (strings) first, then unknown keys exactly as read. */
export type Fields = Map<string, unknown>;

export const LIFECYCLES = ['active', 'draft', 'deprecated', 'archived'] as const;

export const FIXED_DEFAULTS = {
  metadata_version: '0.1.0',
  protocol_version: '1.1.0',
  schema_version: '1.1.0',
  version: '1.0.0',
  state_contract: 'state_contract://default',
  lifecycle: 'active',
  meta_type: 'tool',
  description: 'Stamped by aionctl',
} as const;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const HASH_RE = /^[0-9a-f]{64}$/;

/** Fields whose text is always double-quoted: PyYAML reads a bare ISO date as a datetime, digits as numbers. */
export const ALWAYS_QUOTED: ReadonlySet<string> = new Set([
  'metadata_version',
  'protocol_version',
  'schema_version',
  'version',
  'uuid',
  'created_at',
  'last_modified_at',
  'hash',
]);

// A plain scalar that both YAML 1.1 (PyYAML) and 1.2 read back as the same string: starts with a letter, holds no
// indicator that starts a comment or mapping (` #`, `: `), and no trailing space.
const SAFE_PLAIN = /^[A-Za-z_][A-Za-z0-9_ ./@:+=<>()~^,-]*$/;
const YAML_KEYWORD = /^(?:y|n|yes|no|true|false|on|off|null|nan|inf|~|\.nan|\.inf|[-+]?\.inf|[-+]?[0-9].*|=|<<)$/i;
const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function isSafePlain(value: string): boolean {
  return (
    SAFE_PLAIN.test(value) &&
    !YAML_KEYWORD.test(value) &&
    !value.endsWith(' ') &&
    !value.endsWith(':') &&
    !value.includes(': ') &&
    !value.includes(' #')
  );
}

/**
 * Line terminators of some language a block may sit in, beyond the ASCII controls JSON already escapes: NEL
 * (YAML 1.1, C#, Python's splitlines), LINE and PARAGRAPH SEPARATOR (JavaScript, TypeScript, C#, YAML 1.1).
 * Written raw inside a `//` or `#` comment they end it, and the rest of the value becomes code.
 */
const UNICODE_TERMINATORS = /[\u0085\u2028\u2029]/g;
/** Every line terminator any target language recognises (CR, LF, VT, FF, FS/GS/RS, NEL, LS, PS). */
export const LINE_TERMINATOR = /[\n\v\f\r\x1c-\x1e\u0085\u2028\u2029]/;

/** JSON text with no raw line terminator: NEL, LS and PS become `\uXXXX` escapes (valid JSON and YAML). */
export function quoteOneLine(value: string): string {
  return escapeTerminators(JSON.stringify(value));
}

function escapeTerminators(json: string): string {
  // Inside JSON text these characters only occur within strings, where `\uXXXX` means the same character.
  return json.replace(UNICODE_TERMINATORS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The name of the first line terminator in `value` (`U+2028`), or undefined when it is one line. */
export function lineTerminatorIn(value: string): string | undefined {
  const m = LINE_TERMINATOR.exec(value);
  return m ? `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

// Most values repeat from file to file (owner, versions, lifecycle...): remember their rendered text.
const renderedText = new Map<string, string>();

/** One `key: value` line (JSON text is valid YAML, so non-plain values are written as JSON). */
export function renderField(key: string, value: unknown): string {
  return `${renderKey(key)}: ${renderValue(key, value)}`;
}

/** The key as `renderField` writes it. */
export function renderKey(key: string): string {
  return KNOWN_FIELDS.has(key) || SAFE_KEY.test(key) ? key : quoteOneLine(key);
}

/** The value as `renderField` writes it. */
export function renderValue(key: string, value: unknown): string {
  if (typeof value === 'string') {
    if (ALWAYS_QUOTED.has(key)) return quoteOneLine(value);
    let v = renderedText.get(value);
    if (v === undefined) {
      v = isSafePlain(value) ? value : quoteOneLine(value);
      if (renderedText.size < 4096) renderedText.set(value, v);
    }
    return v;
  }
  return value === undefined ? 'null' : escapeTerminators(JSON.stringify(value) ?? 'null');
}

/** Printable ASCII without `"` and `\`: JSON quotes it as is, so the quoted text is `"` + value + `"`. */
const QUOTES_AS_IS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Does `text` hold the value as `renderValue` writes it, starting at `pos`? Returns the offset past it, or -1.
 * Allocates nothing for the usual values (uuids, timestamps, hashes, names).
 */
export function matchValue(text: string, pos: number, key: string, value: unknown): number {
  if (typeof value === 'string' && ALWAYS_QUOTED.has(key) && QUOTES_AS_IS.test(value)) {
    const close = pos + 1 + value.length;
    return text.charCodeAt(pos) === 34 && text.startsWith(value, pos + 1) && text.charCodeAt(close) === 34
      ? close + 1
      : -1;
  }
  const v = renderValue(key, value);
  return text.startsWith(v, pos) ? pos + v.length : -1;
}

export { canonicalJson };
