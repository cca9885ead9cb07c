import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { parseSource, validatePaths } from '../src/lib/manifest/index.js';
import { median, REPO_ROOT, round } from './util.js';

const COUNT = 1000;
const RUNS = 5;

function manifest(i: number): Record<string, unknown> {
  return {
    apiVersion: 'aionos/v1',
    kind: 'AgentPackage',
    metadata: { name: `agent_${i}`, version: `1.${i % 50}.${i % 7}`, authors: ['Bench'], license: 'Apache-2.0' },
    runtime: {
      type: 'subprocess',
      command: ['node', 'main.mjs'],
      resources: { cpu: '500m', memory: '256Mi', gpu: { required: false, vendor: 'none' } },
    },
    permissions: { filesystem: 'read-only', network: 'deny', secrets: ['OPENAI_API_KEY?'] },
    intents: ['summarize'],
    policies: { timeout_ms: 1500, retries: 0 },
  };
}

function timed(cmd: string, args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * Validates 1,000 generated aip.yaml manifests with one `aionctl validate` process, against ajv-cli validating
 * the same manifests (as JSON, which it parses faster than we parse YAML) with the same schema, in the same run.
 */
export async function manifestBench(): Promise<Record<string, number>> {
  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-manifest-'));
  try {
    await mkdir(join(root, 'json'));
    for (let i = 0; i < COUNT; i++) {
      const data = manifest(i);
      await mkdir(join(root, 'yaml', `pkg${i}`), { recursive: true });
      await writeFile(join(root, 'yaml', `pkg${i}`, 'aip.yaml'), stringify(data));
      await writeFile(join(root, 'json', `pkg${i}.json`), JSON.stringify(data));
    }
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
    return {
      files: COUNT,
      aionctl_ms: round(oursMs),
      aionctl_files_per_s: round((COUNT / oursMs) * 1000, 0),
      ajv_cli_ms: round(theirsMs),
      ajv_cli_files_per_s: round((COUNT / theirsMs) * 1000, 0),
      speedup_vs_ajv_cli: round(theirsMs / oursMs),
      in_process_ms: round(median(inProcess)),
      in_process_files_per_s: round((COUNT / median(inProcess)) * 1000, 0),
      keys_120k_parse_ms: round(median(keysOurs)),
      keys_120k_bare_yaml_ms: round(median(keysBare)),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
