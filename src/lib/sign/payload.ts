/**
 * The simple-signing payload cosign signs: Go `json.Marshal` of `payload.SimpleContainerImage`, compact, keys in
 * struct order, `optional` null unless annotations are given (then a map with sorted keys, as Go writes maps).
 * Parsing is strict like containers/image: unknown fields anywhere in `critical` are refused.
 */
import { AionError } from '../errors/index.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
/** Real payloads are ~200-400 bytes; anything over this is refused before parsing. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface SimpleSigningPayload {
  dockerReference: string;
  dockerManifestDigest: string;
  optional: Record<string, unknown> | null;
}

/** Go's encoding/json escapes <, >, & (and U+2028/9) inside strings; mirror it so payloads are byte-identical. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** The exact payload bytes cosign writes for `reference` at `digest`. */
export function buildPayload(reference: string, digest: string, annotations?: Record<string, string>): Buffer {
  const optional = annotations && Object.keys(annotations).length > 0 ? sortKeys(annotations) : null;
  const json = `{"critical":{"identity":{"docker-reference":${goJson(reference)}},"image":{"docker-manifest-digest":${goJson(
    digest,
  )}},"type":${goJson(SIMPLE_SIGNING_TYPE)}},"optional":${goJson(optional)}}`;
  return Buffer.from(json, 'utf8');
}

function exactKeys(obj: unknown, keys: string[], where: string): Record<string, unknown> {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw new AionError('ST005', `signature payload: ${where} must be a JSON object`);
  const record = obj as Record<string, unknown>;
  for (const k of Object.keys(record))
    if (!keys.includes(k)) throw new AionError('ST005', `signature payload: unknown field ${where}.${k}`);
  for (const k of keys)
    if (!(k in record)) throw new AionError('ST005', `signature payload: missing field ${where}.${k}`);
  return record;
}

function str(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new AionError('ST005', `signature payload: ${where} must be a string`);
  return value;
}

/** Parses payload bytes (already signature-checked or not: this only judges the shape). */
export function parsePayload(bytes: Uint8Array): SimpleSigningPayload {
  if (bytes.length > MAX_PAYLOAD_BYTES)
    throw new AionError('ST005', `signature payload is ${bytes.length} bytes (limit ${MAX_PAYLOAD_BYTES})`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new AionError('ST005', 'signature payload is not JSON', { cause: err });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new AionError('ST005', 'signature payload must be a JSON object');
  const top = value as Record<string, unknown>;
  for (const k of Object.keys(top))
    if (k !== 'critical' && k !== 'optional') throw new AionError('ST005', `signature payload: unknown field ${k}`);
  const critical = exactKeys(top.critical, ['identity', 'image', 'type'], 'critical');
  const type = str(critical.type, 'critical.type');
  if (type !== SIMPLE_SIGNING_TYPE)
    throw new AionError('ST005', `signature payload: critical.type is "${type}", not "${SIMPLE_SIGNING_TYPE}"`);
  const image = exactKeys(critical.image, ['docker-manifest-digest'], 'critical.image');
  const identity = exactKeys(critical.identity, ['docker-reference'], 'critical.identity');
  const optional = top.optional ?? null;
  if (optional !== null && (typeof optional !== 'object' || Array.isArray(optional)))
    throw new AionError('ST005', 'signature payload: optional must be an object or null');
  return {
    dockerReference: str(identity['docker-reference'], 'critical.identity.docker-reference'),
    dockerManifestDigest: str(image['docker-manifest-digest'], 'critical.image.docker-manifest-digest'),
    optional: optional as Record<string, unknown> | null,
  };
}
