/**
 * `aionctl init`: the files of a new, valid package. Pure: returns the files; the command writes them.
 * The wasm template's bytes are embedded (base64) so installs need no wasm toolchain; a test checks they are
 * exactly what wabt builds from templates/hello.wat.
 */
export type ScaffoldRuntime = 'wasm' | 'subprocess';

export interface ScaffoldFile {
  path: string;
  content: string | Uint8Array;
  mode?: number;
}

/** wabt build of templates/hello.wat: a WASI command printing {"ok":true}. */
export const HELLO_WASM_BASE64 =
  'AGFzbQEAAAABDAJgBH9/f38Bf2AAAAIjARZ3YXNpX3NuYXBzaG90X3ByZXZpZXcxCGZkX3dyaXRlAAADAgEBBQMBAAEHEwIGbWVtb3J5AgAGX3N0YXJ0AAEKHQEbAEEAQRA2AgBBBEEMNgIAQQFBAEEBQQgQABoLCxIBAEEQCwx7Im9rIjp0cnVlfQo=';

export const PACKAGE_NAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** A package name derived from a directory name: lowercased, other characters become `_`. */
export function packageNameFrom(dirName: string): string {
  const name = dirName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
  return name || 'agent';
}

const schema = (title: string, properties: Record<string, unknown>) =>
  `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', title, type: 'object', properties }, null, 2)}\n`;

export function scaffoldPackage(name: string, runtime: ScaffoldRuntime): ScaffoldFile[] {
  const runtimeYaml =
    runtime === 'wasm'
      ? ['runtime:', '  type: wasm', '  wasi: true', '  module: module.wasm']
      : ['runtime:', '  type: subprocess', '  command: ["node", "main.mjs"]'];
  const aip = [
    '# Agent package manifest. Check it with: aionctl validate .',
    'apiVersion: aionos/v1',
    'kind: AgentPackage',
    'metadata:',
    `  name: ${name}`,
    '  version: "0.1.0"',
    '  description: A new agent package',
    '  license: Apache-2.0',
    ...runtimeYaml,
    '  resources:',
    '    cpu: "0.5"',
    '    memory: 128Mi',
    '    gpu:',
    '      required: false',
    '      vendor: none',
    'permissions:',
    '  filesystem: deny',
    '  network: deny',
    '  secrets: []',
    'entrypoints:',
    '  schema:',
    '    input: schemas/input.json',
    '    output: schemas/output.json',
    'intents: []',
    'policies:',
    '  timeout_ms: 1500',
    '  retries: 0',
    '',
  ].join('\n');
  const files: ScaffoldFile[] = [
    { path: 'aip.yaml', content: aip },
    { path: 'schemas/input.json', content: schema('Input', {}) },
    { path: 'schemas/output.json', content: schema('Output', { ok: { type: 'boolean' } }) },
  ];
  if (runtime === 'wasm') {
    files.push({ path: 'module.wasm', content: Buffer.from(HELLO_WASM_BASE64, 'base64') });
  } else {
    files.push({
      path: 'main.mjs',
      mode: 0o755,
      content: [
        '#!/usr/bin/env node',
        '// Reads one JSON document on stdin, writes one JSON document on stdout.',
        "let input = '';",
        "process.stdin.setEncoding('utf8');",
        "process.stdin.on('data', (chunk) => (input += chunk));",
        "process.stdin.on('end', () => {",
        '  const request = input.trim() ? JSON.parse(input) : {};',
        '  process.stdout.write(`${JSON.stringify({ ok: true, keys: Object.keys(request).length })}\\n`);',
        '});',
        '',
      ].join('\n'),
    });
  }
  return files;
}
