/** GPU discovery and pinning with a fake nvidia-smi first on PATH (real CSV; failing, hanging and garbage modes). */
import assert from 'node:assert/strict';
import { chmod, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAionError } from '../../src/lib/errors/index.js';
import { discoverGpus, parseNvidiaCsv, parseRocmJson, selectGpus } from '../../src/lib/gpu/index.js';
import { runPackage } from '../../src/lib/run/index.js';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { context, makePackage, printModule, scriptPackage, wasmPackage } from '../run/helpers.js';

let root: string;
let fakebin: string;
let cleanup: () => Promise<void>;
let fakePath: string;
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

before(async () => {
  ({ path: root, cleanup } = await tempDir('aionctl-gpu-'));
  await chmod(root, 0o755);
  fakebin = join(root, 'fakebin');
  await mkdir(fakebin);
  await symlink(join(REPO_ROOT, 'test', 'fixtures', 'run', 'nvidia-smi'), join(fakebin, 'nvidia-smi'));
  fakePath = `${fakebin}:${SYSTEM_PATH}`;
});
after(() => cleanup());

const UUID1 = 'GPU-66666666-7777-8888-9999-000000000000';

describe('gpu discovery', { timeout: 60_000 }, () => {
  it('parses nvidia-smi CSV: index, uuid, memory, utilization, driver', async () => {
    const { devices, probes } = await discoverGpus({ env: { PATH: fakePath } });
    assert.equal(devices.length, 2);
    assert.deepEqual(
      { ...devices[1], deviceNodes: [] },
      {
        vendor: 'nvidia',
        index: 1,
        uuid: UUID1,
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotalMiB: 81559,
        memoryUsedMiB: 1024,
        memoryFreeMiB: 80535,
        utilizationPercent: 3,
        driver: '550.54.15',
        deviceNodes: [],
      },
    );
    assert.equal(probes.find((p) => p.vendor === 'nvidia')?.ok, true);
    assert.match(probes.find((p) => p.vendor === 'amd')?.reason ?? '', /not found/);
  });

  it('garbage, a failing driver, a hang and an absent tool each give a reason, never a hang', async () => {
    const reason = async (mode: string | undefined, path = fakePath) => {
      const started = performance.now();
      const { devices, probes } = await discoverGpus({
        env: { PATH: path, ...(mode ? { FAKE_NVSMI: mode } : {}) },
        timeoutMs: 500,
      });
      assert.equal(devices.length, 0);
      return { reason: probes.find((p) => p.vendor === 'nvidia')!.reason ?? '', ms: performance.now() - started };
    };
    assert.match((await reason('garbage')).reason, /unparseable/);
    assert.match((await reason('fail')).reason, /failed/);
    const hang = await reason('hang');
    assert.match(hang.reason, /did not answer within 500 ms/);
    assert.ok(hang.ms < 2000, `hang took ${hang.ms} ms`);
    assert.match((await reason(undefined, SYSTEM_PATH)).reason, /not found on PATH/);
    assert.throws(() => parseNvidiaCsv('0, x\n'), /7/);
  });

  it('rocm-smi JSON', () => {
    const devices = parseRocmJson(
      JSON.stringify({
        card0: {
          'Card series': 'AMD Instinct MI300X',
          'Unique ID': '0x1234',
          'VRAM Total Memory (B)': '205822885888',
          'VRAM Total Used Memory (B)': '1048576',
          'GPU use (%)': '5',
        },
      }),
    );
    assert.equal(devices[0]!.vendor, 'amd');
    assert.equal(devices[0]!.memoryTotalMiB, 196288);
    assert.equal(devices[0]!.memoryFreeMiB, 196287);
  });

  it('selection: enough free memory, pinned by UUID; a required GPU that is absent is EX020', async () => {
    const discovery = await discoverGpus({ env: { PATH: fakePath } });
    const sel = selectGpus({ required: true, vendor: 'nvidia', memoryBytes: 16 * 2 ** 30 }, discovery);
    assert.deepEqual(
      sel.devices.map((d) => d.index),
      [1],
    );
    assert.equal(sel.env.CUDA_VISIBLE_DEVICES, UUID1);
    assert.equal(sel.env.CUDA_DEVICE_ORDER, 'PCI_BUS_ID');
    assert.throws(
      () => selectGpus({ required: true, vendor: 'nvidia', count: 2, memoryBytes: 16 * 2 ** 30 }, discovery),
      (err: unknown) => isAionError(err) && err.code === 'EX020',
    );
    assert.deepEqual(
      selectGpus({ required: false, vendor: 'nvidia', count: 2, memoryBytes: 2 ** 40 }, discovery).devices,
      [],
    );
  });
});

describe('gpu policy in runs and gpu ls', { timeout: 60_000 }, () => {
  it('a GPU package gets its pinned device; without one it is refused before start (EX020)', async () => {
    const pkg = await makePackage(
      join(root, 'gpu-pkg'),
      scriptPackage('process.stdout.write(JSON.stringify({ cuda: process.env.CUDA_VISIBLE_DEVICES ?? null }))', {
        runtime: {
          type: 'subprocess',
          command: ['node', 'main.mjs'],
          resources: { memory: '256Mi', gpu: { required: true, vendor: 'nvidia', count: 1, memory: '16Gi' } },
        },
      }),
    );
    const env = await runPackage({ package: pkg, input: {} }, context(root, { PATH: fakePath }));
    assert.equal(env.ok, true, JSON.stringify(env));
    assert.deepEqual(env.output, { cuda: UUID1 });
    assert.deepEqual(env.limits.gpus, [UUID1]);
    await assert.rejects(
      runPackage({ package: pkg, input: {} }, context(root, { PATH: SYSTEM_PATH })),
      (err: unknown) => {
        assert.ok(isAionError(err) && err.code === 'EX020', String(err));
        return true;
      },
    );
  });

  it('a WASM package cannot require a GPU: a validation error (SC006) before anything starts', async () => {
    const pkg = await makePackage(
      join(root, 'wasm-gpu'),
      wasmPackage(printModule('{}'), {
        runtime: {
          type: 'wasm',
          module: 'module.wasm',
          resources: { memory: '16Mi', gpu: { required: true, vendor: 'nvidia' } },
        },
      }),
    );
    await assert.rejects(runPackage({ package: pkg, input: {} }, context(root, { PATH: fakePath })), (err: unknown) => {
      assert.ok(isAionError(err) && err.code === 'SC006', String(err));
      assert.match(String(err), /wasm module cannot use a GPU/);
      return true;
    });
  });

  it('aionctl gpu ls --json lists the devices and the probes', async () => {
    const result = await runCli(['gpu', 'ls', '--json'], { env: { PATH: fakePath } });
    assert.equal(result.code, 0, result.stderr);
    const json = parseJson<{ devices: { uuid: string }[]; probes: { tool: string; ok: boolean }[] }>(result);
    assert.equal(json.devices.length, 2);
    assert.deepEqual(
      json.probes.map((p) => p.tool),
      ['nvidia-smi', 'rocm-smi', '/sys/class/drm'],
    );
    const human = await runCli(['gpu', 'ls'], { env: { PATH: SYSTEM_PATH } });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /no GPUs found/);
    assert.match(human.stderr, /nvidia-smi: not available \(nvidia-smi not found on PATH\)/);
  });
});
