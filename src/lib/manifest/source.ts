import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, Node, Pair } from 'yaml';
import { AionError, fsError } from '../errors/index.js';
import type { Diagnostic } from './diagnostics.js';
import { fastYaml } from './fast-yaml.js';
import { readKnownRegular, scratchBuffer } from './small-file.js';
import { findDuplicateKeys } from './unique-keys.js';

// The yaml library is loaded on first use: a run of well-formed manifests never needs it.
const require = createRequire(import.meta.url);
let yamlLib: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlLib ??= require('yaml') as typeof import('yaml'));

/** Manifests are small; anything bigger is refused before it is parsed (10 MB hostile files). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Aliases expanded per document: a billion-laughs file stops here. */
export const MAX_ALIASES = 100;
/** Nesting depth: deeper documents are refused before the schema validator recurses into them. */
export const MAX_DEPTH = 64;

export type PathSegment = string | number;

/** A parsed YAML (or JSON) document that can point at its own nodes. */
export interface SourceDocument {
  file: string;
  text: string;
  data: unknown;
  /** Where the value at `path` starts (or its key, with `key`), 1-based; the nearest existing ancestor if absent. */
  locate(path: readonly PathSegment[], options?: { key?: boolean }): { line: number; col: number };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a manifest as strict UTF-8 text; binary, non-UTF-8 and oversized files are FS errors (exit 3). With
 * `regular`, the caller's directory walk saw the file as a regular file: it is opened non-blocking and read without
 * an fstat when it is small (see `readKnownRegular`); every check below still applies to what was read.
 */
export function readManifestText(file: string, options: { regular?: boolean } = {}): string {
  let bytes: Buffer | undefined;
  let fd: number | undefined;
  try {
    // Non-blocking always: a FIFO named on the command line must not hang the run (readWhole refuses it).
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    if (options.regular) {
      const n = readKnownRegular(fd);
      if (n !== undefined) bytes = scratchBuffer().subarray(0, n);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw fsError(err, file);
  }
  if (!bytes) bytes = readWhole(file, fd);
  else closeSync(fd);
  if (bytes.includes(0)) {
    throw new AionError('FS004', `${file} is binary (it contains NUL bytes), not a YAML manifest`, {
      hint: 'pass a YAML file',
    });
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AionError('FS004', `${file} is not valid UTF-8`, { hint: 'save the file as UTF-8' });
  }
}

/**
 * The bytes of the open manifest `fd` (closed here), from one fstat + read: oversized ones are refused (FS005), and
 * so are FIFOs, sockets and devices (FS002), which have no size to bound the read by.
 */
function readWhole(file: string, fd: number): Buffer {
  let bytes: Buffer;
  try {
    // One open + fstat + read: no separate stat of the path.
    const info = fstatSync(fd);
    if (info.isFIFO() || info.isSocket() || info.isCharacterDevice() || info.isBlockDevice()) {
      throw new AionError('FS002', `cannot read ${file}: not a regular file (a FIFO, socket or device)`, {
        hint: 'pass the manifest file itself',
      });
    }
    const size = info.size;
    if (size > MAX_MANIFEST_BYTES) {
      throw new AionError('FS005', `${file} is ${size} bytes; manifests are limited to ${MAX_MANIFEST_BYTES} bytes`, {
        hint: 'is this really a manifest? split it or point aionctl at the right file',
      });
    }
    bytes = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, bytes, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    bytes = bytes.subarray(0, off);
  } catch (err) {
    if (err instanceof AionError) throw err;
    throw fsError(err, file);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Depth of a parsed value (never recursing past `cap` + 1 levels: no stack overflow); stops past `cap`. Collects the
 * `$ref`/`$dynamicRef` strings (and nested `$id`s) met on the way into `refs` (cross.ts: does a schema need compiling).
 */
export function nestingDepth(value: unknown, cap: number, refs?: string[]): number {
  let max = 0;
  // Recursive: it never goes deeper than `cap` + 1 levels, so a hostile document cannot overflow the stack.
  const visit = (item: object, depth: number): boolean => {
    if (depth > max) {
      max = depth;
      if (max > cap) return true;
    }
    if (Array.isArray(item)) {
      for (const child of item as unknown[]) {
        if (child !== null && typeof child === 'object' && visit(child, depth + 1)) return true;
      }
      return false;
    }
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (refs) {
        if ((key === '$ref' || key === '$dynamicRef') && typeof child === 'string') refs.push(child);
        // A nested $id changes what its references resolve against: such schemas are compiled to be checked.
        else if (key === '$id' && depth > 1) refs.push(`$id:${String(child)}`);
      }
      if (child !== null && typeof child === 'object' && visit(child, depth + 1)) return true;
    }
    return false;
  };
  if (value !== null && typeof value === 'object') visit(value, 1);
  return max;
}

// Each map's keys indexed once: locating thousands of diagnostics in a 120k-key map stays linear.
const pairIndex = new WeakMap<object, Map<string, Pair>>();

function findPair(node: Node, segment: PathSegment): Pair | undefined {
  const { isMap, isScalar } = yaml();
  if (!isMap(node)) return undefined;
  let index = pairIndex.get(node);
  if (!index) {
    index = new Map();
    for (const pair of node.items as Pair[]) {
      const key = pair.key;
      const name = isScalar(key) ? String(key.value) : String(key);
      if (!index.has(name)) index.set(name, pair);
    }
    pairIndex.set(node, index);
  }
  return index.get(String(segment));
}

function makeLocator(doc: Document, counter: import('yaml').LineCounter): SourceDocument['locate'] {
  const { isAlias, isSeq } = yaml();
  const pos = (offset: number | undefined) => {
    const p = counter.linePos(offset ?? 0);
    return { line: p.line, col: p.col };
  };
  return (path, options = {}) => {
    let node: Node | null | undefined = doc.contents as Node | null;
    let keyNode: Node | undefined;
    for (const segment of path) {
      if (!node) break;
      if (isAlias(node)) node = node.resolve(doc) as Node | undefined;
      if (isSeq(node) && typeof segment === 'number') {
        const next = node.items[segment] as Node | undefined;
        if (!next) break;
        node = next;
        keyNode = undefined;
        continue;
      }
      const pair = node ? findPair(node, segment) : undefined;
      if (!pair) break;
      keyNode = pair.key as Node;
      if (!pair.value) {
        node = undefined;
        break;
      }
      node = pair.value as Node;
    }
    const target = options.key && keyNode ? keyNode : (node ?? keyNode);
    return pos(target?.range?.[0]);
  };
}

/**
 * Parses YAML. Plain block YAML (nearly every manifest) takes a fast path that builds no nodes; the positions that a
 * diagnostic needs are computed on the first `locate` call by parsing again with the yaml library. Anything else
 * (and every hostile document: duplicate keys, aliases, deep nesting) is parsed with positions straight away. YAML
 * errors come back as diagnostics with positions; `source` is undefined when the document cannot be used.
 */
export function parseSource(file: string, text: string): { source?: SourceDocument; diagnostics: Diagnostic[] } {
  const fast = fastYaml(text, MAX_DEPTH);
  if (fast.ok) {
    let locate: SourceDocument['locate'] | undefined;
    return {
      source: {
        file,
        text,
        data: fast.data,
        locate: (path, options) => {
          locate ??= parseWithPositions(file, text).source?.locate ?? (() => ({ line: 1, col: 1 }));
          return locate(path, options);
        },
      },
      diagnostics: [],
    };
  }
  return parseWithPositions(file, text);
}

/** The full parse with node positions (the yaml library), with every cap and check; `parseSource` falls back to it. */
export function parseWithPositions(file: string, text: string): { source?: SourceDocument; diagnostics: Diagnostic[] } {
  const { LineCounter, parseDocument } = yaml();
  const counter = new LineCounter();
  let doc: Document;
  try {
    // Duplicate keys are found below in linear time (the library's own check is quadratic).
    doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false, prettyErrors: true, strict: true });
  } catch (err) {
    return {
      diagnostics: [
        { file, line: 1, col: 1, code: 'SC009', message: `document too complex to parse: ${(err as Error).message}` },
      ],
    };
  }
  if (doc.errors.length > 0) {
    return {
      diagnostics: doc.errors.map((error) => {
        const at = error.linePos?.[0] ?? { line: 1, col: 1 };
        const duplicate = error.code === 'DUPLICATE_KEY';
        const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        // The parser recurses per nesting level: a stack overflow is a hostile document, not a syntax error.
        if (/call stack/i.test(message)) {
          return { file, line: at.line, col: at.col, code: 'SC009', message: `document nests too deeply to parse` };
        }
        return { file, line: at.line, col: at.col, code: duplicate ? 'SC002' : 'SC001', message };
      }),
    };
  }
  const duplicates = findDuplicateKeys(doc.contents);
  if (duplicates.length > 0) {
    return {
      diagnostics: duplicates.map(({ key, offset }) => {
        const at = counter.linePos(offset);
        return {
          file,
          line: at.line,
          col: at.col,
          code: 'SC002',
          message: `duplicate key "${key}": map keys must be unique`,
        };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    return {
      diagnostics: [
        {
          file,
          line: 1,
          col: 1,
          code: 'SC009',
          message: `${(err as Error).message} (aliases are capped at ${MAX_ALIASES})`,
        },
      ],
    };
  }
  if (nestingDepth(data, MAX_DEPTH) > MAX_DEPTH) {
    return {
      diagnostics: [
        { file, line: 1, col: 1, code: 'SC009', message: `document nests deeper than ${MAX_DEPTH} levels` },
      ],
    };
  }
  return { source: { file, text, data, locate: makeLocator(doc, counter) }, diagnostics: [] };
}
