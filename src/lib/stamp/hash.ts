import { createHash, hash } from 'node:crypto';
import { canonicalJson, FIELD_ORDER, type Fields } from './fields.js';

/** The fields that do not take part in the hash: the hash itself, and the time it last changed. */
const UNSEALED = new Set(['hash', 'last_modified_at']);

/** The sealed known fields in code-unit order: the whole key list of a block without unknown keys. */
const SEALED_KNOWN = FIELD_ORDER.filter((k) => !UNSEALED.has(k)).sort(byCodeUnit);
/** `"key":` of each, so the header is built without stringifying keys per file. */
const SEALED_KNOWN_PREFIX = SEALED_KNOWN.map((k) => `${JSON.stringify(k)}:`);
/** Where each of them is in FIELD_ORDER. */
const SEALED_KNOWN_INDEX = SEALED_KNOWN.map((k) => FIELD_ORDER.indexOf(k));

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
    if (end > 0 && isTrimmed(c)) end--;
    else break;
  }
  return `${lf.slice(0, end)}\n`;
}

function isTrimmed(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 11 || c === 12;
}

/** Canonical JSON of the sealed fields and a newline: the first part of the hashed text. */
function sealedHeader(fields: Fields): string {
  // A block of known fields only (the usual case): the sorted key order is fixed, every value a string.
  if (fields.size === FIELD_ORDER.length && fields.has('hash') && fields.has('last_modified_at')) {
    let out = '{';
    for (let i = 0; i < SEALED_KNOWN.length; i++) {
      const value = fields.get(SEALED_KNOWN[i]!);
      if (value === undefined && !fields.has(SEALED_KNOWN[i]!)) return sealedHeaderSlow(fields);
      out += `${i === 0 ? '' : ','}${SEALED_KNOWN_PREFIX[i]!}${canonicalJson(value)}`;
    }
    return `${out}}\n`;
  }
  return sealedHeaderSlow(fields);
}

function sealedHeaderSlow(fields: Fields): string {
  const keys = [...fields.keys()].filter((k) => !UNSEALED.has(k)).sort(byCodeUnit);
  const members = keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(fields.get(k))}`);
  return `{${members.join(',')}}\n`;
}

/** The text that is hashed: canonical JSON of the sealed fields, a newline, the normalized body. */
export function sealedText(fields: Fields, body: string): string {
  return sealedHeader(fields) + normalizeBody(body);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 (lowercase hex) over the UTF-8 bytes of `sealedText`. See docs/stamp.md. */
export function stampHash(fields: Fields, body: string): string {
  return createHash('sha256').update(sealedText(fields, body), 'utf8').digest('hex');
}

/**
 * `stampHash` of a body given as two byte ranges of the file: `[0, preambleEnd)` and `[restStart, end)`, without
 * copying or decoding the body. Only for bodies with no CR (nothing to normalize but the trailing whitespace).
 */
export function stampHashOfBytes(fields: Fields, bytes: Uint8Array, preambleEnd: number, restStart: number): string {
  return hashWithHeader(sealedHeader(fields), bytes, preambleEnd, restStart);
}

/** `{"key":"` (`,"key":"` after the first) of each sealed known field, as bytes. */
const SEALED_KNOWN_OPEN = SEALED_KNOWN.map((k, i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(k)}:"`));

/**
 * `stampHashOfBytes` for a block of exactly the known fields whose values are printable ASCII without quote or
 * backslash (their JSON text is the value in quotes), given as byte ranges of the file: `spans[2i]` to
 * `spans[2i+1]` for the i-th field of FIELD_ORDER. The sealed header is assembled from the bytes, no strings.
 */
export function hashOfPlainBlock(bytes: Uint8Array, spans: Int32Array, preambleEnd: number, restStart: number): string {
  let need = 2;
  for (let i = 0; i < SEALED_KNOWN_INDEX.length; i++) {
    const f = SEALED_KNOWN_INDEX[i]!;
    need += SEALED_KNOWN_OPEN[i]!.length + spans[2 * f + 1]! - spans[2 * f]! + 1;
  }
  const header = headerScratch(need);
  let n = 0;
  for (let i = 0; i < SEALED_KNOWN_INDEX.length; i++) {
    const open = SEALED_KNOWN_OPEN[i]!;
    header.set(open, n);
    n += open.length;
    const f = SEALED_KNOWN_INDEX[i]!;
    for (let k = spans[2 * f]!, end = spans[2 * f + 1]!; k < end; k++) header[n++] = bytes[k]!;
    header[n++] = 34;
  }
  header[n++] = 125;
  header[n++] = 10;
  return hashAssembled(n, bytes, preambleEnd, restStart);
}

/** One buffer the hashed text is assembled in (no hash object per file); grown on demand. */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/** The scratch buffer, big enough for a header of `size` bytes (the body follows it). */
function headerScratch(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, 2 * scratch.length));
  return scratch;
}

/** `stampHashOfBytes` with the sealed header given as text. */
export function hashWithHeader(header: string, bytes: Uint8Array, preambleEnd: number, restStart: number): string {
  const n = headerScratch(4 * header.length).write(header, 0, 'utf8');
  return hashAssembled(n, bytes, preambleEnd, restStart);
}

/** sha256 of the header (the scratch's first `headerLength` bytes) and the normalized body, from the file's bytes. */
function hashAssembled(headerLength: number, bytes: Uint8Array, preambleEnd: number, restStart: number): string {
  let end = bytes.length;
  while (end > restStart && isTrimmed(bytes[end - 1]!)) end--;
  let pre = preambleEnd;
  // Trailing whitespace is trimmed from the joined body: with nothing after the block it eats into the preamble.
  if (end === restStart) while (pre > 0 && isTrimmed(bytes[pre - 1]!)) pre--;
  const need = headerLength + pre + (end - restStart) + 1;
  if (scratch.length < need) {
    const grown = Buffer.allocUnsafeSlow(Math.max(need, 2 * scratch.length));
    scratch.copy(grown, 0, 0, headerLength);
    scratch = grown;
  }
  let n = headerLength;
  if (pre > 0) {
    scratch.set(bytes.subarray(0, pre), n);
    n += pre;
  }
  if (end > restStart) {
    scratch.set(bytes.subarray(restStart, end), n);
    n += end - restStart;
  }
  scratch[n++] = 10;
  return hash('sha256', scratch.subarray(0, n), 'hex');
}
