import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { parseSource, validatePaths } from '../src/lib/manifest/index.js';
import { median, REPO_ROOT, round } from './util.js';

const COUNT = Number(process.env.AIONCTL_BENCH_MANIFESTS ?? 1000);
const RUNS = Math.max(3, Number(process.env.AIONCTL_BENCH_RUNS ?? 5));

/** A package manifest shaped like the reference AIP (examples/summarize-wasm): every package's text differs. */
export function referenceManifest(i: number): Record<string, unknown> {
  return {
    apiVersion: 'aionos/v1',
    kind: 'AgentPackage',
    metadata: {
      name: `summarize_text_${i}`,
      version: `1.${i % 50}.${i % 7}`,
      description: `Counts the bytes and words of a text, variant ${i} (a WASI module, JSON in and out)`,
      authors: ['AION Core', `Bench ${i}`],
      license: 'Apache-2.0',
      signatures: { cosign: `sigstore://ghcr.io/aion/summarize_text_${i}@sha256:...` },
      sbom: `oci://ghcr.io/aion/sbom/summarize_text_${i}:1.3.${i}`,
    },
    runtime: {
      type: 'subprocess',
      command: ['node', `main${i}.mjs`],
      resources: { cpu: '0.5', memory: `${256 + (i % 64)}Mi`, gpu: { required: false, vendor: 'none' } },
    },
    permissions: { filesystem: 'deny', network: 'deny', secrets: ['OPENAI_API_KEY?'] },
    entrypoints: {
      grpc: { port: 0 },
      schema: { input: `schemas/summarize_input_${i}.json`, output: `schemas/summarize_output_${i}.json` },
    },
    intents: ['summarize'],
    policies: { timeout_ms: 1500 + i, retries: i % 3 },
  };
}

/** `referenceManifest(i)` written the way the reference AIP is (comments, quoted strings, flow lists). */
export function referenceYaml(i: number): string {
  const m = referenceManifest(i) as {
    metadata: Record<string, string>;
    runtime: { resources: { memory: string } };
    policies: { timeout_ms: number; retries: number };
  };
  return `# yaml-language-server: $schema=../../manifests/agent-package.schema.json
apiVersion: aionos/v1
kind: AgentPackage
metadata:
  name: ${m.metadata.name}
  version: "${m.metadata.version}"
  description: ${m.metadata.description}
  authors: ["AION Core", "Bench ${i}"]
  license: Apache-2.0
  signatures:
    cosign: "sigstore://ghcr.io/aion/summarize_text_${i}@sha256:..."
  sbom: "oci://ghcr.io/aion/sbom/summarize_text_${i}:1.3.${i}"
runtime:
  type: subprocess
  command: ["node", "main${i}.mjs"]
  resources:
    cpu: "0.5"
    memory: "${m.runtime.resources.memory}"
    gpu:
      required: false
      vendor: none
permissions:
  filesystem: deny
  network: deny
  secrets: ["OPENAI_API_KEY?"]
entrypoints:
  grpc:
    port: 0
  schema:
    input: "schemas/summarize_input_${i}.json"
    output: "schemas/summarize_output_${i}.json"
intents:
  - "summarize"
policies:
  timeout_ms: ${m.policies.timeout_ms}
  retries: ${m.policies.retries}
`;
}

/** The reference package's two I/O schemas, each package's pair different from every other's. */
export function referenceSchemas(i: number): { input: object; output: object } {
  return {
    input: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `SummarizeInput${i}`,
      type: 'object',
      required: ['text'],
      properties: {
        text: { type: 'string', description: `The text to summarize (${i}).`, maxLength: 100_000 + i },
      },
      additionalProperties: false,
    },
    output: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `SummarizeOutput${i}`,
      type: 'object',
      required: ['bytes', 'words'],
      properties: {
        bytes: { type: 'integer', minimum: 0, description: `Bytes of input read (${i}).` },
        words: { type: 'integer', minimum: 0, description: 'Whitespace-separated words in the input.' },
      },
      additionalProperties: false,
    },
  };
}

/** Writes `count` reference-shaped packages under `root/yaml/pkgN/` and each manifest as JSON in `root/json/`. */
export async function writeReferencePackages(root: string, count: number): Promise<void> {
  await mkdir(join(root, 'json'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const data = referenceManifest(i);
    if (i === 0 && JSON.stringify(parse(referenceYaml(i))) !== JSON.stringify(data)) {
      throw new Error('bench: referenceYaml and referenceManifest disagree');
    }
    const dir = join(root, 'yaml', `pkg${i}`);
    await mkdir(join(dir, 'schemas'), { recursive: true });
    const { input, output } = referenceSchemas(i);
    await Promise.all([
      writeFile(join(dir, 'aip.yaml'), referenceYaml(i)),
      writeFile(join(dir, 'schemas', `summarize_input_${i}.json`), `${JSON.stringify(input, null, 2)}\n`),
      writeFile(join(dir, 'schemas', `summarize_output_${i}.json`), `${JSON.stringify(output, null, 2)}\n`),
      writeFile(join(root, 'json', `pkg${i}.json`), JSON.stringify(data)),
    ]);
  }
}

function timed(cmd: string, args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * Validates COUNT (default 1,000) reference-shaped packages (aip.yaml + two I/O schema files each, every file
 * different) with one `aionctl validate` process, against ajv-cli 5 validating the same manifests (as JSON, which
 * it parses faster than we parse YAML) with the same schema, interleaved in the same run. ajv-cli checks neither
 * the YAML nor the schema files: aionctl does strictly more work.
 */
export async function manifestBench(): Promise<Record<string, number>> {
  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-manifest-'));
  try {
    await writeReferencePackages(root, COUNT);
    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const ajv = join(REPO_ROOT, 'node_modules', '.bin', 'ajv');
    const schema = join(REPO_ROOT, 'manifests', 'agent-package.schema.json');
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // Interleaved so machine load affects both alike.
      ours.push(timed(process.execPath, [bin, 'validate', 'yaml', '--quiet'], root));
      theirs.push(
        timed(
          ajv,
          ['validate', '--spec=draft2020', '--strict=false', '-c', 'ajv-formats', '-s', schema, '-d', 'json/*.json'],
          root,
        ),
      );
    }
    // In-process, without Node/oclif start-up: what the daemon and `pack` pay per manifest.
    const inProcess: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = process.hrtime.bigint();
      const report = validatePaths(['yaml'], { cwd: root });
      inProcess.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (report.summary.errors !== 0) throw new Error('bench manifests must be valid');
    }
    // The same call in a fresh process, timed alone: what one `aionctl validate` pays after start-up (cold JIT,
    // validators loaded on first use), which the warm in-process median above hides.
    const library = new URL('../src/lib/manifest/index.js', import.meta.url).href;
    const coldScript = [
      `const { validatePaths } = await import(${JSON.stringify(library)});`,
      'const start = process.hrtime.bigint();',
      "const report = validatePaths(['yaml'], { cwd: process.cwd() });",
      'const ms = Number(process.hrtime.bigint() - start) / 1e6;',
      "if (report.summary.errors !== 0) throw new Error('bench manifests must be valid');",
      'process.stdout.write(String(ms));',
    ].join('\n');
    const cold: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', coldScript], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`cold in-process run exited ${r.status}: ${r.stderr}`);
      cold.push(Number(r.stdout));
    }
    // A 1 MB document of 120k keys (issue 10.14: the yaml library's duplicate-key check made it 130 s): our parse
    // with the linear check, against the bare yaml parse of the same text (no key check) as the same-run reference.
    const keys: string[] = [];
    for (let i = 0; i < 120_000; i++) keys.push(`k${i.toString(36)}: 1`);
    const big = `${keys.join('\n')}\n`;
    const keysOurs: number[] = [];
    const keysBare: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let start = process.hrtime.bigint();
      if (!parseSource('big.onex.yaml', big).source) throw new Error('the 120k-key document must parse');
      keysOurs.push(Number(process.hrtime.bigint() - start) / 1e6);
      start = process.hrtime.bigint();
      parseDocument(big, { uniqueKeys: false }).toJS();
      keysBare.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const oursMs = median(ours);
    const theirsMs = median(theirs);
    // Files aionctl reads and checks per run: the manifest and its two schema files per package.
    const filesRead = COUNT * 3;
    return {
      files: COUNT,
      packages: COUNT,
      validate_1000_ms: round(oursMs),
      ajv_cli_1000_ms: round(theirsMs),
      validate_vs_ajv_cli: round(oursMs / theirsMs),
      aionctl_ms: round(oursMs),
      aionctl_files_per_s: round((filesRead / oursMs) * 1000, 0),
      aionctl_manifests_per_s: round((COUNT / oursMs) * 1000, 0),
      ajv_cli_ms: round(theirsMs),
      ajv_cli_files_per_s: round((COUNT / theirsMs) * 1000, 0),
      speedup_vs_ajv_cli: round(theirsMs / oursMs),
      in_process_ms: round(median(inProcess)),
      in_process_files_per_s: round((filesRead / median(inProcess)) * 1000, 0),
      in_process_cold_ms: round(median(cold)),
      keys_120k_parse_ms: round(median(keysOurs)),
      keys_120k_bare_yaml_ms: round(median(keysBare)),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
