import { createHash } from 'node:crypto';
import { canonicalJson, type Fields } from './fields.js';

/** The fields that do not take part in the hash: the hash itself, and the time it last changed. */
const UNSEALED = new Set(['hash', 'last_modified_at']);

/**
 * The body as hashed: the file without BOM and block (preamble + the text after the block, leading blank lines
 * dropped), CRLF and lone CR turned into LF, trailing whitespace at the end trimmed, one LF added.
 */
export function normalizeBody(body: string): string {
  return `${body.replace(/\r\n?/g, '\n').replace(/[ \t\n\v\f]+$/, '')}\n`;
}

/** The text that is hashed: canonical JSON of the sealed fields, a newline, the normalized body. */
export function sealedText(fields: Fields, body: string): string {
  const sealed: Record<string, unknown> = {};
  for (const [key, value] of fields) if (!UNSEALED.has(key)) sealed[key] = value;
  return `${canonicalJson(sealed)}\n${normalizeBody(body)}`;
}

/** sha256 (lowercase hex) over the UTF-8 bytes of `sealedText`. See docs/stamp.md. */
export function stampHash(fields: Fields, body: string): string {
  return createHash('sha256').update(sealedText(fields, body), 'utf8').digest('hex');
}
