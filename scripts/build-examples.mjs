#!/usr/bin/env node
// Builds examples/*/module.wasm from module.wat with wabt (a devDependency). The .wasm files are committed so a
// fresh clone packs and runs without a wasm toolchain; a test checks they match what this script builds.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** WAT source to wasm bytes (validated). */
export async function buildWasm(source, name = 'module.wat') {
  const wabt = await (await import('wabt')).default();
  const module = wabt.parseWat(name, source, { bulk_memory: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of readdirSync(EXAMPLES)) {
    const wat = join(EXAMPLES, dir, 'module.wat');
    if (!existsSync(wat)) continue;
    const wasm = await buildWasm(readFileSync(wat, 'utf8'));
    const out = join(EXAMPLES, dir, 'module.wasm');
    const same = existsSync(out) && readFileSync(out).equals(wasm);
    if (!same) writeFileSync(out, wasm);
    console.log(`${same ? 'up to date' : 'built'} ${out} (${wasm.length} bytes)`);
  }
}
