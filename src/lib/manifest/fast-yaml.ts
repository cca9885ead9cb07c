/**
 * A fast parser for the plain block YAML that manifests are written in, for the common case of a well-formed file.
 * It builds no nodes and keeps no positions: it either returns exactly the value the yaml library would
 * (`parseDocument(text).toJS()` with the core schema) or `undefined`, and then the caller parses the file with the
 * yaml library, which reports positioned errors. Anything outside the subset below makes it give up:
 *
 * - a root block mapping; nested block mappings and sequences (`- item`, `- key: value`), indentation by spaces;
 * - plain scalars on one line (resolved as the YAML 1.2 core schema does: null, booleans, decimal ints, floats),
 *   one-line double-quoted (`\\ \" \/ \n \t \r \uXXXX` escapes) and single-quoted scalars, `#` comments;
 * - one-line flow sequences of scalars (`["a", b]`), and empty `[]` / `{}`.
 *
 * It gives up on duplicate keys, anchors/aliases, tags, block scalars, multi-line scalars, flow mappings, document
 * markers, tabs, control characters, `<<` and `__proto__` keys, and nesting deeper than `maxDepth`: the hostile
 * cases (duplicate keys, alias floods, deep nesting) are always decided, and reported, by the full parser.
 */

/** Why the fast path gave up (tests assert that hostile documents take the full parser). */
export type FastYamlResult = { ok: true; data: Record<string, unknown> } | { ok: false; reason: string };

class GiveUp extends Error {}
const giveUp = (reason: string): never => {
  throw new GiveUp(reason);
};

interface Line {
  indent: number;
  /** The line without its indentation (comments still attached). */
  text: string;
  /** 1-based line number (messages only). */
  no: number;
}

// Characters that make the document leave the fast path outright: tabs, CR, control characters, BOM, non-chars.
const UNSUPPORTED_CHARS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\r\ufeff\ufffe\uffff]/;
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$.\-/]*$/;
const RESERVED_KEY = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|<<|__proto__)$/;
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
// Other core-schema forms (hex, octal, exponent, .inf/.nan): rare in manifests, left to the yaml library.
const OTHER_NUMBER =
  /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** A plain scalar's value under the core schema. */
function resolvePlain(text: string): unknown {
  // Most plain scalars are words: only these first characters can start a null, a boolean or a number.
  if (!'~nNtTfF0123456789+-.'.includes(text[0] ?? '~')) return text;
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (INT.test(text)) return parseInt(text, 10);
  if (FLOAT.test(text)) return parseFloat(text);
  if (OTHER_NUMBER.test(text)) giveUp('number form');
  return text;
}

/** Characters a plain scalar may not start with (YAML indicators), except `-` before a digit or dot. */
function checkPlainStart(text: string): void {
  const c = text[0]!;
  if ('?:,[]{}#&*!|>\'"%@`'.includes(c)) giveUp('indicator');
  if (c === '-' && !/^-[0-9.]/.test(text)) giveUp('indicator');
}

/**
 * After a complete value at `text[i]`, the line may only end or carry a ` # comment`; anything else is not ours.
 * (A comment holding U+2028/U+2029 is left to the yaml library, as the former `/^ +(?:#.*)?$/` check did.)
 */
function expectEnd(text: string, i: number): void {
  const len = text.length;
  if (i >= len) return;
  if (text.charCodeAt(i) !== 32) giveUp('text after value');
  while (i < len && text.charCodeAt(i) === 32) i++;
  if (i === len) return;
  if (text.charCodeAt(i) !== 35 || /[\u2028\u2029]/.test(text.slice(i))) giveUp('text after value');
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r' };

/** Where the last quoted scalar ended (the index after its closing quote): no tuple per scalar. */
let quoteEnd = 0;

/** A double-quoted scalar whose opening quote is text[start]; sets `quoteEnd`. */
function doubleQuoted(text: string, start: number): string {
  let out = '';
  let i = start + 1;
  const len = text.length;
  for (;;) {
    let j = i;
    for (; j < len; j++) {
      const c = text.charCodeAt(j);
      if (c === 34 || c === 92) break;
    }
    if (j >= len) return giveUp('multi-line double-quoted scalar');
    out = out === '' ? text.slice(i, j) : out + text.slice(i, j);
    i = j;
    if (text.charCodeAt(i) === 34) {
      quoteEnd = i + 1;
      return out;
    }
    const e = text[i + 1];
    if (e === undefined) return giveUp('escape at end of line');
    if (e === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) giveUp('escape');
      const code = parseInt(hex, 16);
      if (code >= 0xd800 && code <= 0xdfff) giveUp('surrogate escape');
      out += String.fromCharCode(code);
      i += 6;
      continue;
    }
    const mapped = ESCAPES[e];
    if (mapped === undefined) giveUp('escape');
    out += mapped;
    i += 2;
  }
}

/** A single-quoted scalar whose opening quote is text[start] (`''` is a quote); sets `quoteEnd`. */
function singleQuoted(text: string, start: number): string {
  let out = '';
  let i = start + 1;
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) return giveUp('multi-line single-quoted scalar');
    out += text.slice(i, q);
    if (text[q + 1] === "'") {
      out += "'";
      i = q + 2;
      continue;
    }
    quoteEnd = q + 1;
    return out;
  }
}

/** A scalar value that fills the rest of a line (plain, quoted, or a one-line flow sequence). */
function inlineValue(text: string): unknown {
  const c = text[0];
  if (c === '"') {
    const value = doubleQuoted(text, 0);
    expectEnd(text, quoteEnd);
    return value;
  }
  if (c === "'") {
    const value = singleQuoted(text, 0);
    expectEnd(text, quoteEnd);
    return value;
  }
  if (c === '[') return flowSequence(text);
  if (c === '{') {
    const m = /^\{ *\}/.exec(text);
    if (!m) giveUp('flow mapping');
    expectEnd(text, m![0].length);
    return {};
  }
  return plainInline(text);
}

function plainInline(text: string): unknown {
  checkPlainStart(text);
  const hash = text.indexOf(' #');
  let body = hash >= 0 ? text.slice(0, hash) : text;
  if (body.charCodeAt(body.length - 1) === 32) body = body.replace(/ +$/, '');
  if (body.includes(': ') || body.endsWith(':')) giveUp('mapping in a plain scalar');
  return resolvePlain(body);
}

/** `[a, "b", 'c']` on one line, scalars only. */
function flowSequence(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 1;
  const skip = () => {
    while (text[i] === ' ') i++;
  };
  skip();
  if (text[i] === ']') {
    expectEnd(text, i + 1);
    return out;
  }
  for (;;) {
    skip();
    const c = text[i];
    if (c === '"' || c === "'") {
      out.push(c === '"' ? doubleQuoted(text, i) : singleQuoted(text, i));
      i = quoteEnd;
    } else {
      const m = /^[^,[\]{}#"':]+/.exec(text.slice(i));
      if (!m) return giveUp('flow item');
      const raw = m[0].replace(/ +$/, '');
      if (raw === '') giveUp('empty flow item');
      checkPlainStart(raw);
      out.push(resolvePlain(raw));
      i += m[0].length;
    }
    skip();
    if (text[i] === ',') {
      i++;
      skip();
      if (text[i] === ']') giveUp('trailing comma');
      continue;
    }
    if (text[i] === ']') {
      expectEnd(text, i + 1);
      return out;
    }
    return giveUp('flow sequence');
  }
}

/** The key and the rest of the line (without its leading spaces) of the last `splitKey` that returned true. */
let entryKey = '';
let entryRest = '';

/** `key: rest` → true with `entryKey`/`entryRest` set, or false when the line is not a mapping entry. */
function splitKey(text: string): boolean {
  let key: string;
  let after: number;
  const c = text.charCodeAt(0);
  const len = text.length;
  if (c === 34 || c === 39) {
    key = c === 34 ? doubleQuoted(text, 0) : singleQuoted(text, 0);
    after = quoteEnd;
    while (text.charCodeAt(after) === 32) after++;
    if (text.charCodeAt(after) !== 58) return false;
  } else {
    // The first `:` followed by a space or the end of the line.
    let colon = text.indexOf(':');
    while (colon >= 0 && colon + 1 < len && text.charCodeAt(colon + 1) !== 32) colon = text.indexOf(':', colon + 1);
    if (colon < 0) return false;
    let end = colon;
    while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
    key = text.slice(0, end);
    if (!PLAIN_KEY.test(key)) return giveUp('key form');
    after = colon;
  }
  if (RESERVED_KEY.test(key)) giveUp('reserved key');
  // The yaml library limits implicit keys to 1024 characters: long ones are its to report.
  if (after > 1000) giveUp('long key');
  let r = after + 1;
  if (r < len && text.charCodeAt(r) !== 32) giveUp('key form');
  while (r < len && text.charCodeAt(r) === 32) r++;
  entryKey = key;
  entryRest = r < len ? text.slice(r) : '';
  return true;
}

class FastParser {
  i = 0;
  constructor(
    readonly lines: Line[],
    readonly maxDepth: number,
  ) {}

  /** The block starting at line `this.i` whose indentation is exactly `indent`. */
  block(indent: number, depth: number): unknown {
    if (depth > this.maxDepth) giveUp('depth');
    const line = this.lines[this.i]!;
    if (line.text.startsWith('- ') || line.text === '-') return this.sequence(indent, depth);
    return this.mapping(indent, depth);
  }

  /** The value after `key:` or `- ` when the rest of the line is empty: a nested block, or null. */
  nested(parentIndent: number, depth: number, allowSameIndentSequence: boolean): unknown {
    const next = this.lines[this.i];
    if (!next) return null;
    if (next.indent > parentIndent) return this.block(next.indent, depth + 1);
    if (allowSameIndentSequence && next.indent === parentIndent && (next.text.startsWith('- ') || next.text === '-')) {
      return this.sequence(parentIndent, depth + 1);
    }
    return null;
  }

  /** A scalar on the current line must not continue on the next (only plain scalars fold, see `continuation`). */
  noContinuation(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) giveUp('continued scalar');
  }

  /**
   * A plain scalar folded over the following more-indented lines (as yaml.stringify writes long strings): the lines
   * join with single spaces. Blank or comment lines inside, or anything that looks like structure, are not ours.
   */
  continuation(indent: number, first: string, firstLine: number): string {
    let value = first;
    let previous = firstLine;
    for (let next = this.lines[this.i]; next && next.indent > indent; next = this.lines[this.i]) {
      if (next.no !== previous + 1) giveUp('blank line in a folded scalar');
      const text = next.text;
      checkPlainStart(text);
      if (text.includes(': ') || text.endsWith(':') || text.includes(' #')) giveUp('structure in a folded scalar');
      value += ` ${text}`;
      previous = next.no;
      this.i++;
    }
    return value;
  }

  /** A value on the rest of a line at `indent`, folding a plain scalar over continuation lines. */
  lineValue(rest: string, indent: number, lineNo: number): unknown {
    const value = inlineValue(rest);
    const next = this.lines[this.i];
    if (!next || next.indent <= indent) return value;
    // Only a plain string can continue: a number, null or boolean followed by more text is a string in the end.
    const c = rest[0];
    if (c === '"' || c === "'" || c === '[' || c === '{' || rest.includes(' #')) return giveUp('continued scalar');
    const folded = this.continuation(indent, rest, lineNo);
    return resolvePlain(folded);
  }

  mapping(indent: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) giveUp('indentation');
      if (line.text.startsWith('- ') || line.text === '-') break; // a sequence at the parent key's indentation
      if (!splitKey(line.text)) return giveUp('not a mapping entry');
      const key = entryKey;
      const rest = entryRest;
      // Every key read is set below (`__proto__` is refused by splitKey): an own property means a duplicate.
      if (Object.hasOwn(out, key)) giveUp('duplicate key');
      this.i++;
      let value: unknown;
      if (rest === '' || rest[0] === '#') value = this.nested(indent, depth, true);
      else value = this.lineValue(rest, indent, line.no);
      out[key] = value;
    }
    return out;
  }

  sequence(indent: number, depth: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent !== indent || !(line.text.startsWith('- ') || line.text === '-')) {
        if (line.indent > indent) giveUp('indentation');
        break;
      }
      let offset = 1;
      while (line.text[offset] === ' ') offset++;
      const rest = line.text.slice(offset);
      if (rest === '' || rest[0] === '#') {
        this.i++;
        out.push(this.nested(indent, depth, false));
        continue;
      }
      // `- key: value` or `- - item`: the rest of the line starts a block at its own column.
      if (rest.startsWith('- ') || rest === '-' || (rest[0] !== '"' && rest[0] !== "'" && /:(?: |$)/.test(rest))) {
        this.lines[this.i] = { indent: indent + offset, text: rest, no: line.no };
        out.push(this.block(indent + offset, depth + 1));
        continue;
      }
      if ((rest[0] === '"' || rest[0] === "'") && /^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*') *:(?: |$)/.test(rest)) {
        this.lines[this.i] = { indent: indent + offset, text: rest, no: line.no };
        out.push(this.block(indent + offset, depth + 1));
        continue;
      }
      this.i++;
      out.push(this.lineValue(rest, indent, line.no));
    }
    return out;
  }
}

/** The value of `text` when it is plain block YAML (see above); otherwise why not. */
export function fastYaml(text: string, maxDepth: number): FastYamlResult {
  if (UNSUPPORTED_CHARS.test(text)) return { ok: false, reason: 'unsupported characters' };
  const lines: Line[] = [];
  const len = text.length;
  let no = 0;
  for (let start = 0; start <= len;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    no++;
    let body = start;
    while (body < end && text.charCodeAt(body) === 32) body++;
    if (body < end && text.charCodeAt(body) !== 35) {
      if (
        body === start &&
        (text.startsWith('---', body) || text.startsWith('...', body) || text.charCodeAt(body) === 37)
      ) {
        return { ok: false, reason: 'document marker or directive' };
      }
      let stop = end;
      while (text.charCodeAt(stop - 1) === 32) stop--;
      lines.push({ indent: body - start, text: text.slice(body, stop), no });
    }
    start = end + 1;
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return { ok: false, reason: 'not a block mapping' };
  try {
    const parser = new FastParser(lines, maxDepth);
    if (lines[0]!.text.startsWith('- ') || lines[0]!.text === '-') return { ok: false, reason: 'root sequence' };
    const data = parser.mapping(0, 1);
    if (parser.i !== lines.length) return { ok: false, reason: `unexpected line ${lines[parser.i]!.no}` };
    return { ok: true, data };
  } catch (err) {
    if (err instanceof GiveUp) return { ok: false, reason: err.message };
    // A hostile document must never crash the fast path: the full parser decides.
    if (err instanceof RangeError) return { ok: false, reason: 'too complex' };
    throw err;
  }
}
