// `npm run bench run`: cold `aionctl run examples/summarize-wasm` (whole process) against `node -e 0` and against
// the floor (`node --no-turbo-fast-api-calls` running the same module with node:wasi directly), and the same run
// inside bubblewrap against --sandbox none (the sandbox's cost). Interleaved, median of 20 each.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, REPO_ROOT, round, timeCommand } from './util.js';

const FLOOR = `import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[2])), wasi.getImportObject());
process.exitCode = wasi.start(instance);
`;

export async function runBench(): Promise<Record<string, number>> {
  const runs = 20;
  const dir = mkdtempSync(join(tmpdir(), 'aionctl-bench-run-'));
  try {
    const floorScript = join(dir, 'floor.mjs');
    writeFileSync(floorScript, FLOOR);
    const bin = join(REPO_ROOT, 'bin', 'run.js');
    const pkg = join(REPO_ROOT, 'examples', 'summarize-wasm');
    const env = { ...process.env, AIONCTL_HOME: join(dir, 'home') };
    const input = JSON.stringify({ text: 'hello big world' });
    const node = process.execPath;
    const samples = { node: [] as number[], floor: [] as number[], run: [] as number[], none: [] as number[] };
    for (let i = 0; i < runs; i++) {
      samples.node.push(timeCommand(node, ['-e', '0']));
      samples.floor.push(
        timeCommand(node, [
          '--no-turbo-fast-api-calls',
          '--disable-warning=ExperimentalWarning',
          floorScript,
          join(pkg, 'module.wasm'),
        ]),
      );
      samples.run.push(timeCommand(node, [bin, 'run', pkg, '--input-json', input], { env }));
      samples.none.push(timeCommand(node, [bin, 'run', pkg, '--input-json', input, '--sandbox', 'none'], { env }));
    }
    const [n, f, r, u] = [median(samples.node), median(samples.floor), median(samples.run), median(samples.none)];
    return {
      node_e0_ms: round(n),
      floor_node_wasi_ms: round(f),
      cold_run_bwrap_ms: round(r),
      cold_run_unsandboxed_ms: round(u),
      run_over_node_ratio: round(r / n),
      run_over_floor_ratio: round(r / f),
      sandbox_cost_ms: round(r - u),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
