/**
 * Makes a prepared module import its memory instead of defining it, so a warm host can hand a run a zeroed memory
 * it kept from the previous run of the same module instead of reserving a fresh one (V8 reserves and unmaps
 * gigabytes of address space per defined memory: most of a trivial run's cost). The memory section's one memory
 * becomes an import `aionctl.memory` with the same limits (still memory index 0, still exported); nothing else
 * changes. The host zero-fills a reused memory before instantiating, which with the data segments written by
 * instantiation is exactly a fresh memory's content. Pure.
 */
import { leb } from './wasm-leb.js';

export interface ImportedMemoryModule {
  bytes: Uint8Array;
  initial: number;
  maximum: number;
}

export const MEMORY_IMPORT = { module: 'aionctl', name: 'memory' } as const;

interface Section {
  id: number;
  start: number;
  end: number;
  headerStart: number;
}

function u32(bytes: Uint8Array, pos: { at: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos.at >= bytes.length) throw new RangeError('unexpected end of module');
    const b = bytes[pos.at++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 35) throw new RangeError('LEB128 too long');
  }
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...leb(bytes.length), ...bytes];
}

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  const pos = { at: 8 };
  while (pos.at < bytes.length) {
    const headerStart = pos.at;
    const id = bytes[pos.at++]!;
    const size = u32(bytes, pos);
    const start = pos.at;
    pos.at += size;
    if (pos.at > bytes.length) throw new RangeError('a section runs past the end');
    out.push({ id, start, end: pos.at, headerStart });
  }
  return out;
}

/**
 * The module with its defined memory turned into an import, or undefined when it has no single plain memory with a
 * declared maximum (then it runs as it is). Throws nothing: an unexpected shape also returns undefined.
 */
export function importMemory(bytes: Uint8Array): ImportedMemoryModule | undefined {
  try {
    const all = sections(bytes);
    const memory = all.find((s) => s.id === 5);
    if (!memory || all.filter((s) => s.id === 5).length !== 1) return undefined;
    const pos = { at: memory.start };
    if (u32(bytes, pos) !== 1) return undefined;
    const flags = bytes[pos.at++]!;
    if (flags !== 1) return undefined; // no maximum, shared or 64-bit: leave it alone
    const initial = u32(bytes, pos);
    const maximum = u32(bytes, pos);
    if (pos.at !== memory.end) return undefined;
    const entry = [
      ...name(MEMORY_IMPORT.module),
      ...name(MEMORY_IMPORT.name),
      0x02,
      0x01,
      ...leb(initial),
      ...leb(maximum),
    ];
    const imports = all.find((s) => s.id === 2);
    const parts: Uint8Array[] = [bytes.subarray(0, 8)];
    const section = (id: number, body: number[] | Uint8Array) => Uint8Array.from([id, ...leb(body.length), ...body]);
    let importDone = false;
    for (const s of all) {
      if (s.id === 5) continue;
      if (s.id === 2) {
        const p = { at: s.start };
        const count = u32(bytes, p);
        parts.push(section(2, [...leb(count + 1), ...bytes.subarray(p.at, s.end), ...entry]));
        importDone = true;
        continue;
      }
      // No import section: a new one goes before the first section that must follow it (ids 3..12, not custom).
      if (!imports && !importDone && s.id !== 0 && s.id !== 1) {
        parts.push(section(2, [...leb(1), ...entry]));
        importDone = true;
      }
      parts.push(bytes.subarray(s.headerStart, s.end));
    }
    if (!importDone) parts.push(section(2, [...leb(1), ...entry]));
    return { bytes: Buffer.concat(parts), initial, maximum };
  } catch {
    return undefined;
  }
}
