import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, type CliResult, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { parseTrace, tracedPackages } from '../helpers/module-trace.js';

// bin/run.js's start-up fast paths (issue 15): `--version` before oclif loads, the hot commands dispatched with the
// root plugin only. AIONCTL_FAST_START=off is plain oclif: every case must answer byte for byte the same.
const TRACE_HOOK = join(REPO_ROOT, 'dist', 'test', 'helpers', 'module-trace.js');
const HEAVY = ['ink', 'react', 'ajv', 'ajv-formats', 'yaml', 'undici', 'execa', 'tweetnacl'];
const isHeavy = (name: string) => HEAVY.includes(name) || name.startsWith('@sigstore/');

let dir: { path: string; cleanup: () => Promise<void> };
let n = 0;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { AIONCTL_HOME: join(dir.path, 'home'), SOURCE_DATE_EPOCH: '1700000000', AIONCTL_DAEMON: 'off', ...extra };
}

/** Runs bin/run.js with the module-trace hook; returns the result and the npm packages the process loaded. */
function traced(args: string[], cwd: string): Promise<CliResult & { packages: Set<string>; files: string[] }> {
  const file = join(dir.path, `trace-${++n}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TRACE_HOOK, BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...env({ AIONCTL_TRACE_MODULES: file }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      readFile(file, 'utf8').then((text) => {
        const files = parseTrace(text);
        resolve({ code: code ?? 1, stdout, stderr, files, packages: tracedPackages(files) });
      }, reject);
    });
  });
}

/** The same command through the fast paths and through plain oclif: identical exit code, stdout and stderr. */
async function assertSameAsOclif(args: string[], cwd = REPO_ROOT, mask = (text: string) => text): Promise<CliResult> {
  const [fast, plain] = await Promise.all([
    runCli(args, { cwd, env: env() }),
    runCli(args, { cwd, env: env({ AIONCTL_FAST_START: 'off' }) }),
  ]);
  assert.deepEqual(
    { code: fast.code, stdout: mask(fast.stdout), stderr: mask(fast.stderr) },
    { code: plain.code, stdout: mask(plain.stdout), stderr: mask(plain.stderr) },
    `aionctl ${args.join(' ')}`,
  );
  return fast;
}

describe('start-up fast paths (bin/run.js)', () => {
  let plain: string;
  before(async () => {
    dir = await tempDir('aionctl-startup-');
    plain = join(dir.path, 'plain');
    await mkdir(join(plain, 'src'), { recursive: true });
    await writeFile(join(plain, 'a.sh'), '#!/bin/sh\necho hi\n');
    await writeFile(join(plain, 'src', 'b.py'), 'print("hi")\n');
  });
  after(() => dir.cleanup());

  it('--version prints exactly what oclif prints (name/version platform-arch node-version)', async () => {
    const r = await assertSameAsOclif(['--version']);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout, `aionctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    // what is not a version flag still goes to oclif, as before
    await assertSameAsOclif(['-v']);
    await assertSameAsOclif(['version']);
  });

  it('--version loads no package at all (oclif included)', async () => {
    const r = await traced(['--version'], REPO_ROOT);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.packages], []);
  });

  it('hot commands answer help, usage errors, --json and exit codes exactly as oclif does', async () => {
    const cases: string[][] = [
      ['stamp', '--help'],
      ['verify', '--help'],
      ['pull', '--help'],
      ['push', '--no-such-flag'],
      ['pull', 'oci:' + join(dir.path, 'no-layout') + ':v1', '--json'],
      ['stamp', '--no-such-flag', '--json'],
      ['verify'],
      ['run', '--input-json', '{}', 'no_such_package', '--json'],
      ['validate', join(REPO_ROOT, 'examples', 'summarize-wasm')],
      ['validate', join(dir.path, 'missing'), '--json'],
    ];
    for (const args of cases) await assertSameAsOclif(args);
    const check = await assertSameAsOclif(['stamp', '--check', '.'], plain);
    assert.equal(check.code, 1, check.stderr);
    // the rest of the CLI (only oclif's engine check differs there)
    await assertSameAsOclif(['config', '--json']);
  });

  it('stamp --check over files without blocks loads no oclif, yaml, ajv, ink, undici, sigstore nor semver', async () => {
    const r = await traced(['stamp', '--check', '.'], plain);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /would stamp/);
    const loaded = [...r.packages].filter((p) => isHeavy(p) || p === 'semver' || p.startsWith('@oclif/'));
    assert.deepEqual(loaded, [], `loaded: ${loaded.join(', ')}`);
    assert.ok(
      r.files.some((f) => f.endsWith('/dist/src/lib/cli/handlers/stamp.js')),
      'the trace sees ES modules',
    );
    // what the fast path declines still reaches oclif (and the trace sees CommonJS packages)
    const help = await traced(['stamp', '--help'], plain);
    assert.equal(help.code, 0, help.stderr);
    assert.ok(help.packages.has('@oclif/core'), 'stamp --help is answered by oclif');
  });

  it('stamp, validate, push and pull run without @oclif/core and answer exactly as oclif does', async () => {
    const stamped = join(dir.path, 'stamped');
    await mkdir(join(stamped, 'gen'), { recursive: true });
    await writeFile(join(stamped, 'a.py'), 'print(1)\n');
    await writeFile(join(stamped, 'gen', 'g.py'), 'print(2)\n');
    await writeFile(join(stamped, 'b.json'), '{}\n');
    const pkg = join(REPO_ROOT, 'examples', 'summarize-wasm');
    const cases: Array<[string[], string]> = [
      [['stamp', '--check', '--json', 'b.json'], stamped], // random uuids of would-stamp files would differ
      [['stamp', '-c', '-v', '-x', 'gen/**', 'a.py', 'gen/g.py', 'b.json'], stamped],
      [['stamp', '--check', '--no-cache', '--diff', '--owner=Team Lab', '--lifecycle', 'draft', 'a.py'], stamped],
      [['stamp', '--check', '--strict', '.'], stamped],
      [['stamp', '--regenerate-uuid', '--json'], stamped],
      [['stamp', '--check', 'no-such-file.py', '--quiet'], stamped],
      [['validate', pkg, '--json'], plain],
      [['validate', '--format', 'sarif', pkg], plain],
      [['validate', '-q', join(dir.path, 'missing')], plain],
      [['push', join(dir.path, 'missing-pkg'), `oci:${join(dir.path, 'export')}:v1`], plain],
      [
        ['push', join(dir.path, 'missing-pkg'), `oci:${join(dir.path, 'export')}:v1`, '--json', '--no-referrers'],
        plain,
      ],
      [['pull', `oci:${join(dir.path, 'no-layout')}:v1`, '-q'], plain],
      [['pull', `oci:${join(dir.path, 'no-layout')}:v1`, '--insecure-skip-verify', '--json'], plain],
      [['pull', 'not a reference!'], plain],
    ];
    // a file stamped for the first time gets a random uuid (and so another hash) in each run
    const fresh = (text: string) => text.replace(/("?(?:uuid|hash)"?: )"[^"]+"/g, '$1"…"');
    for (const [args, cwd] of cases) await assertSameAsOclif(args, cwd, fresh);
    // in-process, not through oclif: no @oclif package is loaded (the usage-error case above went to oclif)
    for (const [args, cwd] of [cases[1]!, cases[6]!, cases[9]!, cases[11]!]) {
      const r = await traced(args, cwd);
      const oclif = [...r.packages].filter((p) => p.startsWith('@oclif/'));
      assert.deepEqual(oclif, [], `aionctl ${args.join(' ')} loaded ${oclif.join(', ')}`);
    }
    // what stamp wrote through the fast path is what oclif would have written: stamp both copies, compare bytes
    const twin = join(dir.path, 'twin');
    await mkdir(twin, { recursive: true });
    await writeFile(join(twin, 'c.py'), 'print(1)\n');
    await writeFile(join(stamped, 'c.py'), 'print(1)\n');
    const fast = await runCli(['stamp', '--owner', 'x', 'c.py'], { cwd: stamped, env: env() });
    const slow = await runCli(['stamp', '--owner', 'x', 'c.py'], {
      cwd: twin,
      env: env({ AIONCTL_FAST_START: 'off' }),
    });
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(slow.code, 0, slow.stderr);
    const strip = (t: string) => t.replace(/^.*uuid.*$/gm, '').replace(/^.*hash.*$/gm, '');
    assert.equal(
      strip(await readFile(join(stamped, 'c.py'), 'utf8')),
      strip(await readFile(join(twin, 'c.py'), 'utf8')),
    );
  });

  it('verify and run load no heavy package on their usage and not-found paths', async () => {
    for (const args of [['verify'], ['run', '--input-json', '{}', 'no_such_package']]) {
      const r = await traced(args, plain);
      assert.notEqual(r.code, 0);
      const loaded = [...r.packages].filter(isHeavy);
      assert.deepEqual(loaded, [], `aionctl ${args.join(' ')} loaded: ${loaded.join(', ')}`);
    }
  });

  it('validate loads what validation needs and no terminal UI, HTTP or sigstore', async () => {
    const r = await traced(['validate', join(REPO_ROOT, 'examples', 'summarize-wasm')], plain);
    assert.equal(r.code, 0, r.stderr);
    const loaded = [...r.packages].filter(
      (p) => ['ink', 'react', 'undici', 'execa', 'tweetnacl'].includes(p) || p.startsWith('@sigstore/'),
    );
    assert.deepEqual(loaded, [], `loaded: ${loaded.join(', ')}`);
  });
});

describe('start-up pack (dist/startup-pack.txt, bin/startup-pack.js)', () => {
  const packFile = join(REPO_ROOT, 'dist', 'startup-pack.txt');
  const loader = join(REPO_ROOT, 'bin', 'startup-pack.js');
  let tmp: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir('aionctl-startup-pack-');
  });
  after(() => tmp.cleanup());

  it('npm run build wrote a pack of @oclif/core that loads the same oclif', async () => {
    const script = `
      const { requireOclifFromPack } = await import(${JSON.stringify(loader)});
      const core = requireOclifFromPack(${JSON.stringify(REPO_ROOT)});
      const { createRequire } = await import('node:module');
      const again = createRequire(${JSON.stringify(join(REPO_ROOT, 'bin', 'run.js'))})('@oclif/core');
      process.stdout.write(JSON.stringify({ packed: core !== undefined, same: core === again, execute: typeof core?.execute }));`;
    const r = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        env: { ...process.env, OCLIF_DISABLE_ENGINE_WARNING: 'true' },
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    assert.deepEqual(JSON.parse(r), { packed: true, same: true, execute: 'function' });
  });

  it('a pack that no longer matches the files, Node or format is ignored, never trusted', async () => {
    const { requireOclifFromPack } = (await import(loader)) as {
      requireOclifFromPack: (root: string, file?: string) => unknown;
    };
    const text = await readFile(packFile, 'utf8');
    const cut = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, cut)) as {
      node: string;
      files: Array<{ path: string; mtimeMs: number; size: number }>;
    };
    assert.ok(header.files.length > 50, `${header.files.length} packed modules`);
    const variant = async (name: string, edit: (h: typeof header) => void) => {
      const copy = structuredClone(header);
      edit(copy);
      const file = join(tmp.path, name);
      await writeFile(file, `${JSON.stringify(copy)}\n${text.slice(cut + 1)}`);
      return requireOclifFromPack(REPO_ROOT, file);
    };
    assert.equal(await variant('mtime', (h) => (h.files[3]!.mtimeMs += 1)), undefined);
    assert.equal(await variant('size', (h) => (h.files[0]!.size += 1)), undefined);
    assert.equal(await variant('node', (h) => (h.node = 'v0.0.0')), undefined);
    assert.equal(await variant('moved', (h) => (h.files[1]!.path = 'no/such/file.js')), undefined);
    await writeFile(join(tmp.path, 'junk'), 'not json\n');
    assert.equal(requireOclifFromPack(REPO_ROOT, join(tmp.path, 'junk')), undefined);
    assert.equal(requireOclifFromPack(REPO_ROOT, join(tmp.path, 'absent')), undefined);
  });
});
