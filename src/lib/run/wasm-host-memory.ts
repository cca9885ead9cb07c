/**
 * Makes a prepared module import its memory instead of defining it, so a warm host can hand a run a zeroed memory
 * it kept from the previous run of the same module instead of reserving a fresh one (V8 reserves and unmaps
 * gigabytes of address space per defined memory: most of a trivial run's cost). The memory section's one memory
 * becomes an import `aionctl.memory` with the same limits (still memory index 0, still exported); nothing else
 * changes. The host zero-fills a reused memory before instantiating, which with the data segments written by
 * instantiation is exactly a fresh memory's content. Pure.
 */
import { leb, readSections, WasmReader } from './wasm-leb.js';

export interface ImportedMemoryModule {
  bytes: Uint8Array;
  initial: number;
  maximum: number;
}

const MEMORY_IMPORT = { module: 'aionctl', name: 'memory' } as const;

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...leb(bytes.length), ...bytes];
}

/**
 * The module with its defined memory turned into an import, or undefined when it has no single plain memory with a
 * declared maximum (then it runs as it is). Throws nothing: an unexpected shape also returns undefined.
 */
export function importMemory(bytes: Uint8Array): ImportedMemoryModule | undefined {
  try {
    const all = readSections(bytes);
    const memory = all.find((s) => s.id === 5);
    if (!memory || all.filter((s) => s.id === 5).length !== 1) return undefined;
    const r = new WasmReader(bytes, memory.start);
    if (r.u32() !== 1) return undefined;
    const flags = r.byte();
    if (flags !== 1) return undefined; // no maximum, shared or 64-bit: leave it alone
    const initial = r.u32();
    const maximum = r.u32();
    if (r.pos !== memory.end) return undefined;
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
        const p = new WasmReader(bytes, s.start);
        const count = p.u32();
        parts.push(section(2, [...leb(count + 1), ...bytes.subarray(p.pos, s.end), ...entry]));
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
