/**
 * The WebAssembly binary format's unsigned LEB128 and section framing, shared by the module checks
 * (wasm-module.ts) and the memory-import rewrite (wasm-host-memory.ts). Pure; throws RangeError on a malformed
 * module (callers turn it into their own answer).
 */

/** Unsigned LEB128, as the WebAssembly binary format writes sizes and limits. */
export function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/** A cursor over a module's bytes. */
export class WasmReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('unexpected end of module');
    return this.bytes[this.pos++]!;
  }
  /** An unsigned LEB128 of at most 5 bytes (u32). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw new RangeError('LEB128 too long');
    }
  }
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.bytes.length) throw new RangeError('unexpected end of module');
    return Buffer.from(this.bytes.subarray(start, this.pos)).toString('utf8');
  }
}

export interface WasmSection {
  id: number;
  /** First byte of the section's content. */
  start: number;
  /** One past its last byte. */
  end: number;
  /** Its id byte. */
  headerStart: number;
}

/** The sections after the 8-byte preamble (not checked here). */
export function readSections(bytes: Uint8Array): WasmSection[] {
  const r = new WasmReader(bytes, 8);
  const out: WasmSection[] = [];
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.pos += size;
    if (r.pos > bytes.length) throw new RangeError('a section runs past the end');
    out.push({ id, start, end: r.pos, headerStart });
  }
  return out;
}
