import { AionError } from '../errors/index.js';
import { isAscii, isUtf8 } from 'node:buffer';
import { locateBlock, locateCanonical } from './block.js';
import {
  canonicalJson,
  FIELD_ORDER,
  type FieldName,
  type Fields,
  LIFECYCLES,
  lineTerminatorIn,
  UUID_RE,
} from './fields.js';
import { stampHash, stampHashOfBytes } from './hash.js';
import { preambleEnd } from './preamble.js';
import { matchRendered, renderBlock } from './render.js';
import { fileTypeFor, type FileType, type SkipReason } from './styles.js';
import { detectEol, lineNumberAt, skipBlankLines } from './text.js';

export type FieldValues = Partial<Record<FieldName, string>>;

/** Everything a plan needs besides the file: built once per run (clock, uuid source, config, flags). */
export interface StampContext {
  /** Current time, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  now: string;
  newUuid: () => string;
  /** Config defaults: used when a block lacks the field (the command fills owner from git or the OS user). */
  defaults: FieldValues;
  /** Command-line values: set on every file. */
  overrides: FieldValues;
  /** Give the file a fresh uuid (fixes a copied file). */
  regenerateUuid?: boolean;
}

/**
 * Why a file changes: `missing` no block; `stale` the file (or a sealed field) was edited by hand since it was
 * stamped, so the old hash no longer matches; `updated` the block was intact but this run sets other field values
 * (a flag such as --owner, or a renamed file); `noncanonical` same values, different text.
 */
export type Change = 'none' | 'missing' | 'stale' | 'updated' | 'noncanonical';

export type Plan =
  | { kind: 'skip'; reason: SkipReason }
  | {
      kind: 'ok';
      change: Change;
      output?: Uint8Array;
      uuid: string;
      hash: string;
      /** With `updated`: the sealed fields whose values this run changes. */
      fields?: string[];
    };

export const MAX_BYTES = 16 * 1024 * 1024;
export const GENERATED = /Code generated .* DO NOT EDIT\.|@generated/;

/** Binary per git's heuristic (a NUL in the first 8000 bytes) or not valid UTF-8; the text otherwise. */
export function decodeText(bytes: Uint8Array): string | undefined {
  const buf = asBuffer(bytes);
  const nul = buf.indexOf(0);
  if (nul >= 0 && nul < 8000) return undefined;
  // ASCII (most source files) decodes as one-byte text without a UTF-8 pass.
  if (isAscii(buf)) return buf.toString('latin1');
  return isUtf8(buf) ? buf.toString('utf8') : undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * What `stamp` does to one file, without touching the disk: the bytes to write (when anything changes) and why.
 * Throws AionError (MD001–MD005) for a block it cannot read or write; the caller leaves such a file untouched.
 */
export function planStamp(bytes: Uint8Array, fileName: string, displayPath: string, ctx: StampContext): Plan {
  if (bytes.length === 0) return { kind: 'skip', reason: 'empty' };
  if (bytes.length > MAX_BYTES) return { kind: 'skip', reason: 'too-large' };
  const type = fileTypeFor(fileName);
  if (typeof type === 'string') return { kind: 'skip', reason: type };
  const buf = asBuffer(bytes);
  const decoded = decodeText(buf);
  if (decoded === undefined) return { kind: 'skip', reason: 'binary' };
  const bom = decoded.charCodeAt(0) === 0xfeff;
  const text = bom ? decoded.slice(1) : decoded;
  // Text offsets are byte offsets when the file is ASCII (no BOM then) and CR-free: the body is hashed from the
  // bytes as read, with no copy.
  const bodyBytes = !bom && text.length === buf.length && buf.indexOf(13) < 0 ? buf : undefined;
  return planText(text, bom, type, fileName, displayPath, ctx, bodyBytes);
}

function planText(
  text: string,
  bom: boolean,
  type: FileType,
  fileName: string,
  displayPath: string,
  ctx: StampContext,
  bodyBytes?: Uint8Array,
): Plan {
  const eol = detectEol(text);
  const preambleStop = preambleEnd(text, type);
  const first = skipBlankLines(text, preambleStop);
  const block = locateCanonical(text, first, type.style, eol) ?? locateBlock(text, first, type.style, displayPath);
  const restStart = block ? skipBlankLines(text, block.end) : first;
  let preamble = text.slice(0, preambleStop);
  const rest = text.slice(restStart);
  // `.` stops at line ends and the preamble ends with one (or nothing follows it): testing apart is the same.
  if (GENERATED.test(preamble) || GENERATED.test(rest.slice(0, 1024))) return { kind: 'skip', reason: 'generated' };

  const existing: Fields = block?.fields ?? new Map();
  const blockLine = block?.line ?? lineNumberAt(text, first);
  validate(existing, displayPath, blockLine);
  const fields = buildFields(existing, type, fileName, ctx);
  const hash = bodyBytes
    ? stampHashOfBytes(fields, bodyBytes, preambleStop, restStart)
    : stampHash(fields, preamble + rest);
  const oldHash = existing.get('hash');
  const oldModified = existing.get('last_modified_at');
  fields.set(
    'last_modified_at',
    block && oldHash === hash && typeof oldModified === 'string'
      ? oldModified
      : block
        ? ctx.now
        : (fields.get('created_at') as string),
  );
  fields.set('hash', hash);
  const uuid = detached(fields.get('uuid') as string);

  // Already current (the CI case): the block is in place exactly as it would be written, so nothing is rendered.
  if (block && block.start === preambleStop) {
    const end = matchRendered(text, block.start, fields, type.style, eol);
    if (
      end >= 0 &&
      (rest.trim() === '' ? end === text.length : end + eol.length === restStart && text.startsWith(eol, end))
    )
      return { kind: 'ok', change: 'none', uuid, hash };
  }

  const body = preamble + rest;
  const rendered = renderBlock(fields, type.style, eol, { file: displayPath, line: blockLine });
  if (preamble !== '' && !/[\r\n]$/.test(preamble)) preamble += eol;
  const output = preamble + rendered + (rest.trim() === '' ? '' : eol + rest);
  if (output === text) return { kind: 'ok', change: 'none', uuid, hash };
  let change: Change = !block ? 'missing' : oldHash !== hash ? 'stale' : 'noncanonical';
  let changed: string[] | undefined;
  // A new hash is not proof of an edit: when the old hash still seals the old fields and the same body, the file
  // is untouched and only this run's values differ (--owner X, a renamed file).
  if (change === 'stale' && typeof oldHash === 'string' && stampHash(existing, body) === oldHash) {
    change = 'updated';
    changed = [...fields.keys()].filter(
      (k) =>
        k !== 'hash' && k !== 'last_modified_at' && canonicalJson(fields.get(k)) !== canonicalJson(existing.get(k)),
    );
  }
  const encoded = Buffer.from(output, 'utf8');
  const final = bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encoded]) : encoded;
  return changed
    ? { kind: 'ok', change, output: final, uuid, hash, fields: changed }
    : { kind: 'ok', change, output: final, uuid, hash };
}

/**
 * A copy of a short string that does not point into the text it was sliced from: the uuid outlives the plan in
 * the results, and a slice of the file's text would keep the whole text alive (10k files: 30 MB of garbage that
 * every GC copies). Pieces under 13 characters are always copied by V8.
 */
function detached(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i += 12) out += s.slice(i, i + 12);
  return out;
}

function validate(fields: Fields, file: string, blockLine: number): void {
  const bad = (field: string, message: string, hint: string) => {
    const index = [...fields.keys()].indexOf(field);
    return new AionError('MD004', `${file}: ${message}`, {
      position: { file, line: blockLine + 1 + Math.max(index, 0), col: 1 },
      hint: `${hint}; the file was not changed`,
      details: { field },
    });
  };
  const uuid = fields.get('uuid');
  if (uuid !== undefined && (typeof uuid !== 'string' || !UUID_RE.test(uuid)))
    throw bad('uuid', `uuid "${String(uuid)}" is not a UUID`, 'fix it, or delete the line to get a fresh v4 uuid');
  const lifecycle = fields.get('lifecycle');
  if (lifecycle !== undefined && !(LIFECYCLES as readonly unknown[]).includes(lifecycle))
    throw bad(
      'lifecycle',
      `lifecycle "${String(lifecycle)}" is not one of ${LIFECYCLES.join(', ')}`,
      'use one of them',
    );
  for (const field of ['created_at', 'last_modified_at']) {
    const value = fields.get(field);
    if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value))))
      throw bad(field, `${field} "${String(value)}" is not a timestamp`, 'write it as 2025-01-31T12:00:00.000Z');
  }
}

export function fileStem(fileName: string): string {
  const bare = fileName.replace(/^\.+/, '');
  const dot = bare.lastIndexOf('.');
  return (dot > 0 ? bare.slice(0, dot) : bare) || fileName;
}

/** The fields in canonical order: kept values, then defaults; name-derived fields follow the file's name. */
function buildFields(existing: Fields, type: FileType, fileName: string, ctx: StampContext): Fields {
  const pick = (key: FieldName, fallback: string): string => {
    const override = ctx.overrides[key];
    if (override !== undefined) return override;
    const kept = existing.get(key);
    if (typeof kept === 'string') return kept;
    return ctx.defaults[key] ?? fallback;
  };
  const owner = pick('owner', 'unknown');
  const oldEntry = existing.get('entrypoint');
  const entryMatch = typeof oldEntry === 'string' ? /^([^@\s]+)@(.+)$/.exec(oldEntry) : null;
  const oldNamespace = existing.get('namespace');
  const values: Record<FieldName, string> = {
    metadata_version: pick('metadata_version', '0.1.0'),
    protocol_version: pick('protocol_version', '1.1.0'),
    owner,
    copyright: pick('copyright', owner),
    schema_version: pick('schema_version', '1.1.0'),
    name: fileName,
    version: pick('version', '1.0.0'),
    uuid: ctx.regenerateUuid ? ctx.newUuid() : ((existing.get('uuid') as string | undefined) ?? ctx.newUuid()),
    author: pick('author', owner),
    created_at: (existing.get('created_at') as string | undefined) ?? ctx.now,
    last_modified_at: '',
    description: pick('description', 'Stamped by aionctl'),
    state_contract: pick('state_contract', 'state_contract://default'),
    lifecycle: pick('lifecycle', 'active'),
    hash: '',
    entrypoint:
      ctx.overrides.entrypoint ??
      (entryMatch
        ? `${entryMatch[1]}@${fileName}`
        : typeof oldEntry === 'string'
          ? oldEntry
          : `${type.language}@${fileName}`),
    runtime_language_hint: pick('runtime_language_hint', type.language),
    namespace:
      ctx.overrides.namespace ??
      (typeof oldNamespace === 'string' && !oldNamespace.startsWith('onex.stamped.')
        ? oldNamespace
        : `onex.stamped.${fileStem(fileName)}`),
    meta_type: pick('meta_type', 'tool'),
  };
  const fields: Fields = new Map();
  for (const key of FIELD_ORDER) fields.set(key, values[key]);
  for (const [key, value] of existing) if (!fields.has(key)) fields.set(key, value);
  return fields;
}

/**
 * Refuses (MD005) a value that holds a line terminator of any language a block may sit in (CR, LF, VT, FF, NEL,
 * U+2028, U+2029...): inside a `//` or `#` comment it would end the comment and turn the rest into code.
 * `source` names where the values came from (`--description`, `stamp.owner in .aionctl.yaml`).
 */
export function assertOneLineValues(values: FieldValues, source: (field: string) => string): void {
  for (const [field, value] of Object.entries(values)) {
    const bad = typeof value === 'string' ? lineTerminatorIn(value) : undefined;
    if (bad) {
      throw new AionError('MD005', `${source(field)} contains a line break (${bad}), which would end the comment`, {
        hint: 'give a one-line value; nothing was changed',
        details: { field, character: bad },
      });
    }
  }
}
