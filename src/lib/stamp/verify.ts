import { isAscii } from 'node:buffer';
import { ALWAYS_QUOTED, FIELD_ORDER, isSafePlain, LIFECYCLES, UUID_RE } from './fields.js';
import { hashOfPlainBlock } from './hash.js';
import { fileStem, GENERATED, MAX_BYTES, type StampContext } from './plan.js';
import { preambleEnd } from './preamble.js';
import { type CommentStyle, fileTypeFor, type FileType, OPEN_TEXT } from './styles.js';

/**
 * The check-only fast path: is a file already current, exactly as `planStamp` would find it (change `none`)?
 * It reads the block straight from the text (no field map, no render) for the usual case only: ASCII, LF line
 * endings, no NUL, a block of exactly the known fields in canonical order right after the preamble, every value
 * quoted as is or plain. It only ever says yes when `planStamp` says `none` with the same hash and uuid; anything
 * else (stale, noncanonical, unusual, an error to report) returns undefined, and the caller runs the full planner,
 * so results and messages never depend on which path ran.
 */
export interface CurrentFile {
  hash: string;
  uuid: string;
}

/** Most files have their preamble and block in their first 2 KiB. */
const HEAD = 2048;
/** Literal parts of GENERATED: a match holds one of them. */
const MARKERS = [Buffer.from('@generated'), Buffer.from('Code generated ')];
const LF = 10;
const ENTRYPOINT = /^([^@\s]+)@(.+)$/;
const NAMESPACE_PREFIX = 'onex.stamped.';

const COUNT = FIELD_ORDER.length;
const QUOTED = FIELD_ORDER.map((k) => ALWAYS_QUOTED.has(k));
const at = (name: string) => FIELD_ORDER.indexOf(name as (typeof FIELD_ORDER)[number]);
const NAME = at('name');
const UUID = at('uuid');
const CREATED = at('created_at');
const MODIFIED = at('last_modified_at');
const LIFECYCLE = at('lifecycle');
const HASH = at('hash');
const ENTRY = at('entrypoint');
const NAMESPACE = at('namespace');

/** `<prefix> key: ` of each field line, per comment style. */
const linePrefixes = new Map<CommentStyle, string[]>();
function prefixesOf(style: CommentStyle): string[] {
  let list = linePrefixes.get(style);
  if (!list) {
    const lead = style.kind === 'line' ? `${style.prefix} ` : '';
    list = FIELD_ORDER.map((k) => `${lead}${k}: `);
    linePrefixes.set(style, list);
  }
  return list;
}

/** Ran out of the decoded head: decode the whole file and look again. */
const MORE = 1;

export function verifyCurrent(bytes: Buffer, fileName: string, ctx: StampContext): CurrentFile | undefined {
  if (ctx.regenerateUuid) return undefined;
  for (const key in ctx.overrides) if (ctx.overrides[key as keyof typeof ctx.overrides] !== undefined) return undefined;
  const length = bytes.length;
  if (length === 0 || length > MAX_BYTES) return undefined;
  const type = fileTypeFor(fileName);
  if (typeof type === 'string') return undefined;
  // ASCII without NUL and CR: the text is the bytes (offsets agree), no BOM, the line ending is LF.
  if (!isAscii(bytes) || bytes.indexOf(0) >= 0 || bytes.indexOf(13) >= 0) return undefined;
  if (length > HEAD) {
    const found = verifyText(bytes.toString('latin1', 0, HEAD), false, bytes, type, fileName);
    if (found !== MORE) return found;
  }
  const found = verifyText(bytes.toString('latin1'), true, bytes, type, fileName);
  return found === MORE ? undefined : found;
}

/**
 * `text` is the file's first `text.length` bytes (all of it when `complete`). Every offset looked at lies within
 * it; needing one past it returns MORE. Lines examined by `preambleEnd` before the block are whole lines, since
 * the block's own first line must follow them within the text.
 */
function verifyText(
  text: string,
  complete: boolean,
  bytes: Buffer,
  type: FileType,
  fileName: string,
): CurrentFile | undefined | typeof MORE {
  const short = complete ? undefined : MORE;
  const style = type.style;
  const start = preambleEnd(text, type);
  const opener = style.opener;
  if (start + opener.length >= text.length) return short;
  if (!text.startsWith(opener, start) || text.charCodeAt(start + opener.length) !== LF) {
    // A preamble longer than the head (front matter, a DTD) hides the block: look again at the whole file.
    return !complete && bytes.includes(OPEN_TEXT, text.length - OPEN_TEXT.length, 'latin1') ? MORE : undefined;
  }
  const fieldsStart = start + opener.length + 1;
  let pos = fieldsStart;
  const prefixes = prefixesOf(style);
  for (let i = 0; i < COUNT; i++) {
    const prefix = prefixes[i]!;
    if (!text.startsWith(prefix, pos)) return pos + prefix.length > text.length ? short : undefined;
    const from = pos + prefix.length;
    const end = text.indexOf('\n', from);
    if (end < 0) return short;
    if (text.charCodeAt(from) === 34) {
      if (end - from < 2 || text.charCodeAt(end - 1) !== 34 || !quotesAsIs(text, from + 1, end - 1)) return undefined;
      // A value plain-safe is written plain unless the field is always quoted.
      if (!QUOTED[i] && isSafePlain(text.slice(from + 1, end - 1))) return undefined;
      SPAN[2 * i] = from + 1;
      SPAN[2 * i + 1] = end - 1;
    } else {
      if (QUOTED[i] || !isSafePlain(text.slice(from, end))) return undefined;
      SPAN[2 * i] = from;
      SPAN[2 * i + 1] = end;
    }
    pos = end + 1;
  }
  const closerStart = pos;
  const closer = style.closer;
  if (closerStart + closer.length >= text.length) return short;
  if (!text.startsWith(closer, closerStart) || text.charCodeAt(closerStart + closer.length) !== LF) return undefined;
  const blockEnd = closerStart + closer.length + 1;
  // A second opener inside the block, or a value that would end the comment: the full planner reports it.
  const opener2 = text.indexOf(OPEN_TEXT, fieldsStart);
  if (opener2 >= 0 && opener2 < closerStart) return undefined;
  for (const bad of style.forbidden) {
    const found = text.indexOf(bad, fieldsStart);
    if (found >= 0 && found < closerStart) return undefined;
  }
  // Exactly one empty line, then the rest; or nothing at all after the block.
  let restStart = blockEnd;
  if (blockEnd !== bytes.length) {
    if (blockEnd + 1 >= text.length) return short;
    if (text.charCodeAt(blockEnd) !== LF) return undefined;
    restStart = blockEnd + 1;
    if (!lineHasContent(text, restStart)) return complete || text.indexOf('\n', restStart) >= 0 ? undefined : MORE;
  }
  // The generated-file marker is looked for in the preamble and the first 1 KiB after the block: on the bytes
  // (no text needed past the block); where a marker may be, the regex on the text decides.
  if (GENERATED.test(text.slice(0, start))) return undefined;
  const window = Math.min(bytes.length, restStart + 1024);
  if (hasMarker(bytes, restStart, window)) {
    if (!complete) return MORE;
    if (GENERATED.test(text.slice(restStart, restStart + 1024))) return undefined;
  }
  // What planStamp's validation would refuse, and the values this run would set differently.
  const value = (i: number) => text.slice(SPAN[2 * i]!, SPAN[2 * i + 1]!);
  // The uuid outlives the file: a copy, not a slice that would keep the text alive.
  const uuid = bytes.toString('latin1', SPAN[2 * UUID]!, SPAN[2 * UUID + 1]!);
  if (!UUID_RE.test(uuid) || !(LIFECYCLES as readonly string[]).includes(value(LIFECYCLE))) return undefined;
  if (Number.isNaN(Date.parse(value(CREATED))) || Number.isNaN(Date.parse(value(MODIFIED)))) return undefined;
  if (!isValue(text, NAME, fileName)) return undefined;
  const entrypoint = value(ENTRY);
  const entry = ENTRYPOINT.exec(entrypoint);
  if (entry && entrypoint !== `${entry[1]}@${fileName}`) return undefined;
  const namespace = value(NAMESPACE);
  if (namespace.startsWith(NAMESPACE_PREFIX) && namespace !== `${NAMESPACE_PREFIX}${fileStem(fileName)}`)
    return undefined;
  const hash = hashOfPlainBlock(bytes, SPAN, start, restStart);
  if (!isValue(text, HASH, hash)) return undefined;
  return { hash, uuid };
}

/** Does either literal part of GENERATED lie wholly within [from, to)? (No means the regex cannot match there.) */
function hasMarker(bytes: Buffer, from: number, to: number): boolean {
  for (const marker of MARKERS) {
    const at = bytes.indexOf(marker, from);
    if (at >= 0 && at + marker.length <= to) return true;
  }
  return false;
}

/** Offsets of each field's value in FIELD_ORDER: [start, end) pairs (quotes excluded). */
const SPAN = new Int32Array(2 * COUNT);

function isValue(text: string, i: number, expected: string): boolean {
  return SPAN[2 * i + 1]! - SPAN[2 * i]! === expected.length && text.startsWith(expected, SPAN[2 * i]!);
}

/** QUOTES_AS_IS over text[from, to): printable ASCII without `"` and `\`. */
function quotesAsIs(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function lineHasContent(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) return false;
    if (c !== 32 && c !== 9 && c !== 12 && c !== 11) return true;
  }
  return false;
}
