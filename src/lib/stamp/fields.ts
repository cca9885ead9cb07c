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
  owner: 'OmniNode Team',
  description: 'Stamped by aionctl',
} as const;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const HASH_RE = /^[0-9a-f]{64}$/;

/** Fields whose text is always double-quoted: PyYAML reads a bare ISO date as a datetime, digits as numbers. */
const ALWAYS_QUOTED: ReadonlySet<string> = new Set([
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

// Most values repeat from file to file (owner, versions, lifecycle...): remember their rendered text.
const renderedText = new Map<string, string>();

/** One `key: value` line (JSON text is valid YAML, so non-plain values are written as JSON). */
export function renderField(key: string, value: unknown): string {
  const k = SAFE_KEY.test(key) ? key : JSON.stringify(key);
  if (typeof value === 'string') {
    if (ALWAYS_QUOTED.has(key)) return `${k}: ${JSON.stringify(value)}`;
    let v = renderedText.get(value);
    if (v === undefined) {
      v = isSafePlain(value) ? value : JSON.stringify(value);
      if (renderedText.size < 4096) renderedText.set(value, v);
    }
    return `${k}: ${v}`;
  }
  return `${k}: ${value === undefined ? 'null' : JSON.stringify(value)}`;
}

export { canonicalJson };
