import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The smallest valid wasm module: magic + version. */
export const WASM_BYTES = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

export interface PackageSpec {
  name?: string;
  version?: string;
  /** Extra files: path -> content. */
  files?: Record<string, string | Uint8Array>;
  /** File modes to set (path -> mode). */
  modes?: Record<string, number>;
  /** Replace aip.yaml entirely. */
  aipYaml?: string;
}

export function aipYaml(name: string, version: string): string {
  return [
    '# a test package',
    'apiVersion: aionos/v1',
    'kind: AgentPackage',
    'metadata:',
    `  name: ${name}`,
    `  version: "${version}"`,
    '  license: Apache-2.0',
    'runtime:',
    '  type: wasm',
    '  wasi: true',
    '  module: module.wasm',
    'permissions: {filesystem: read-only, network: deny}',
    'entrypoints:',
    '  schema: {input: schemas/input.json, output: schemas/output.json}',
    'intents: ["summarize"]',
    '',
  ].join('\n');
}

/** Writes a small wasm package into `dir` (created). */
export async function writePackage(dir: string, spec: PackageSpec = {}): Promise<string> {
  const name = spec.name ?? 'summarize_text';
  const version = spec.version ?? '1.3.0';
  const files: Record<string, string | Uint8Array> = {
    'aip.yaml': spec.aipYaml ?? aipYaml(name, version),
    'module.wasm': WASM_BYTES,
    'schemas/input.json': '{"type":"object","properties":{"text":{"type":"string"}}}\n',
    'schemas/output.json': '{"type":"object"}\n',
    'bin/helper.sh': '#!/bin/sh\necho hi\n',
    ...spec.files,
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await chmod(join(dir, 'bin/helper.sh'), 0o755);
  for (const [path, mode] of Object.entries(spec.modes ?? {})) await chmod(join(dir, path), mode);
  return dir;
}
