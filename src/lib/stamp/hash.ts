import { createHash } from 'node:crypto';
import { canonicalJson, type Fields } from './fields.js';

/** The fields that do not take part in the hash: the hash itself, and the time it last changed. */
const UNSEALED = new Set(['hash', 'last_modified_at']);

/**
 * The body as hashed: the file without BOM and block (preamble + the text after the block, leading blank lines
 * dropped), CRLF and lone CR turned into LF, trailing whitespace at the end trimmed, one LF added.
 */
export function normalizeBody(body: string): string {
  const lf = body.includes('\r') ? body.replace(/\r\n?/g, '\n') : body;
  let end = lf.length;
  for (;;) {
    const c = lf.charCodeAt(end - 1);
    // space, tab, LF, VT, FF (a regex with `+$` is quadratic on long runs of whitespace)
    if (end > 0 && (c === 32 || c === 9 || c === 10 || c === 11 || c === 12)) end--;
    else break;
  }
  return `${lf.slice(0, end)}\n`;
}

/** The text that is hashed: canonical JSON of the sealed fields, a newline, the normalized body. */
export function sealedText(fields: Fields, body: string): string {
  const keys = [...fields.keys()].filter((k) => !UNSEALED.has(k)).sort(byCodeUnit);
  const members = keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(fields.get(k))}`);
  return `{${members.join(',')}}\n${normalizeBody(body)}`;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 (lowercase hex) over the UTF-8 bytes of `sealedText`. See docs/stamp.md. */
export function stampHash(fields: Fields, body: string): string {
  return createHash('sha256').update(sealedText(fields, body), 'utf8').digest('hex');
}
