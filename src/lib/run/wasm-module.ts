/**
 * Reads a WASM binary's import and memory sections without compiling it, refuses what a run must not start
 * (imports other than `wasi_snapshot_preview1` functions, memory over the cap, shared or 64-bit memory), and
 * clamps a memory without a declared maximum to the cap so `memory.grow` past it returns -1 (V8 enforces a
 * declared maximum). Pure.
 */
import { AionError } from '../errors/index.js';
import { leb, readSections, WasmReader, type WasmSection } from './wasm-leb.js';

export const WASM_PAGE = 65536;
export const WASI_MODULE = 'wasi_snapshot_preview1';

export interface WasmImport {
  module: string;
  name: string;
  kind: 'func' | 'table' | 'memory' | 'global' | 'tag';
}

export interface WasmMemory {
  initial: number;
  maximum?: number;
  shared: boolean;
  memory64: boolean;
}

export interface InspectedModule {
  imports: WasmImport[];
  memories: WasmMemory[];
  exports: string[];
}

function limits(r: WasmReader): WasmMemory {
  const flags = r.byte();
  if (flags > 7) throw new RangeError(`bad limits flag ${flags}`);
  const initial = r.u32();
  const maximum = flags & 1 ? r.u32() : undefined;
  return { initial, maximum, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
}

const KINDS = ['func', 'table', 'memory', 'global', 'tag'] as const;

function invalid(why: string): AionError {
  return new AionError('EX021', `not a valid WASM module: ${why}`, {
    hint: 'rebuild the module for wasm32-wasi (WASI preview 1)',
  });
}

function sections(bytes: Uint8Array): WasmSection[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw invalid('missing the \\0asm header');
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0)
    throw invalid('not a core module version 1 (components are not supported)');
  try {
    return readSections(bytes);
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

/** The imports, memories and export names of a module. Throws EX021 when it cannot be parsed. */
export function inspectModule(bytes: Uint8Array): InspectedModule {
  const imports: WasmImport[] = [];
  const memories: WasmMemory[] = [];
  const exports: string[] = [];
  try {
    for (const s of sections(bytes)) {
      const r = new WasmReader(bytes.subarray(0, s.end), s.start);
      if (s.id === 2) {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          const module = r.name();
          const name = r.name();
          const kindByte = r.byte();
          const kind = KINDS[kindByte];
          if (!kind) throw new RangeError(`bad import kind ${kindByte}`);
          if (kind === 'func') r.u32();
          else if (kind === 'table') {
            r.byte();
            limits(r);
          } else if (kind === 'memory') memories.push(limits(r));
          else if (kind === 'global') {
            r.byte();
            r.byte();
          } else {
            r.byte();
            r.u32();
          }
          imports.push({ module, name, kind });
        }
      } else if (s.id === 5) {
        const count = r.u32();
        for (let i = 0; i < count; i++) memories.push(limits(r));
      } else if (s.id === 7) {
        const count = r.u32();
        for (let i = 0; i < count; i++) {
          exports.push(r.name());
          r.byte();
          r.u32();
        }
      }
    }
  } catch (err) {
    if (err instanceof AionError) throw err;
    throw invalid((err as Error).message);
  }
  return { imports, memories, exports };
}

export interface PreparedModule {
  bytes: Uint8Array;
  inspected: InspectedModule;
  /** Whether the memory section was rewritten to add the cap as maximum. */
  clamped: boolean;
}

/**
 * Checks a module against the run's rules and returns the bytes to run: EX021 for a forbidden import (anything
 * but `wasi_snapshot_preview1` functions) or a missing `_start`/`memory` export; EX011 when a memory's initial
 * size or declared maximum exceeds `capPages`. A memory without a maximum gets `capPages` as its maximum.
 */
export function prepareModule(bytes: Uint8Array, capPages: number): PreparedModule {
  const inspected = inspectModule(bytes);
  const forbidden = inspected.imports.filter((i) => i.module !== WASI_MODULE || i.kind !== 'func');
  if (forbidden.length > 0) {
    const list = forbidden.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ');
    throw new AionError('EX021', `the module imports ${list}: only ${WASI_MODULE} functions are allowed`, {
      hint: 'build the module as a WASI preview 1 command; host functions beyond WASI are not provided',
    });
  }
  if (!inspected.exports.includes('_start') || !inspected.exports.includes('memory'))
    throw new AionError('EX027', 'the module does not export `_start` and `memory`: it is not a WASI command', {
      hint: 'build it as a WASI command (a `main`), not a reactor or library',
    });
  if (inspected.memories.length > 1) throw invalid('more than one memory');
  const memory = inspected.memories[0];
  if (!memory) return { bytes, inspected, clamped: false };
  if (memory.shared || memory.memory64) throw invalid('shared and 64-bit memories are not supported');
  const cap = `${(capPages * WASM_PAGE) / 1048576} MiB`;
  if (memory.initial > capPages)
    throw new AionError('EX011', `the module needs ${memory.initial} pages at start, over the memory cap ${cap}`, {
      hint: 'raise runtime.resources.memory in aip.yaml',
    });
  if (memory.maximum !== undefined) {
    if (memory.maximum > capPages)
      throw new AionError(
        'EX011',
        `the module declares a maximum memory of ${(memory.maximum * WASM_PAGE) / 1048576} MiB, over the cap ${cap}`,
        { hint: 'raise runtime.resources.memory in aip.yaml or lower the module maximum' },
      );
    return { bytes, inspected, clamped: false };
  }
  // Rewrite the memory section: limits flag 1 with max = cap.
  const section = sections(bytes).find((s) => s.id === 5)!;
  const body = [...leb(1), 1, ...leb(memory.initial), ...leb(capPages)];
  const rewritten = Buffer.concat([
    bytes.subarray(0, section.headerStart),
    Buffer.from([5, ...leb(body.length), ...body]),
    bytes.subarray(section.end),
  ]);
  return { bytes: rewritten, inspected, clamped: true };
}
