import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { findDuplicateKeys, loadPackage, MAX_IO_SCHEMA_BYTES, validatePaths } from '../../src/lib/manifest/index.js';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

/** §2.1 of the reference architecture, verbatim, with its two schema files. */
const REFERENCE = join(REPO_ROOT, 'test', 'fixtures', 'reference-aip');
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

interface Report {
  diagnostics: Array<{ code: string; message: string; severity?: string; line: number }>;
  summary: { errors: number; warnings: number; valid: number };
}

describe('validate: the reference AIP and runtime.module (issue 9.2)', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('aionctl-manifest-hard-');
  });
  after(() => dir.cleanup());

  it('the verbatim reference manifest validates: a missing module.wasm is a warning (SC020), exit 0', async () => {
    const text = await readFile(join(REFERENCE, 'aip.yaml'), 'utf8');
    assert.doesNotMatch(text, /module:/, 'the fixture is the reference text, which names no module');
    const r = await runCli(['validate', REFERENCE, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = parseJson<Report>(r);
    assert.equal(report.summary.errors, 0);
    assert.equal(report.summary.warnings, 1);
    assert.equal(report.diagnostics[0]?.code, 'SC020');
    assert.equal(report.diagnostics[0]?.severity, 'warning');
    assert.match(report.diagnostics[0]!.message, /"module\.wasm" does not exist yet/);
    const human = await runCli(['validate', REFERENCE]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /aip\.yaml:\d+:\d+ {2}SC020 {2}warning: /);
    const sarif = await runCli(['validate', REFERENCE, '--format', 'sarif']);
    assert.equal(sarif.code, 0);
    const results = (JSON.parse(sarif.stdout) as { runs: Array<{ results: Array<{ ruleId: string; level: string }> }> })
      .runs[0]!.results;
    assert.deepEqual(
      results.map((x) => [x.ruleId, x.level]),
      [['SC020', 'warning']],
    );
  });

  it('pack (loadPackage) refuses the package until the module exists, then names module.wasm', async () => {
    assert.throws(
      () => loadPackage(REFERENCE),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SC014');
        assert.match(err.message, /"module\.wasm" does not exist in the package: build the module first/);
        return true;
      },
    );
    const home = join(dir.path, 'home');
    const packed = await runCli(['pack', REFERENCE], { env: { AIONCTL_HOME: home } });
    assert.notEqual(packed.code, 0);
    assert.match(packed.stderr, /SC014: .*module\.wasm/);
    const built = join(dir.path, 'built');
    await cp(REFERENCE, built, { recursive: true });
    await writeFile(join(built, 'module.wasm'), WASM);
    assert.equal(validatePaths([built], { cwd: process.cwd() }).diagnostics.length, 0);
    assert.equal(loadPackage(built).manifest.runtime.module, 'module.wasm');
  });

  it('a wasm package cannot require a GPU', async () => {
    const pkg = join(dir.path, 'gpu');
    await cp(REFERENCE, pkg, { recursive: true });
    await writeFile(join(pkg, 'module.wasm'), WASM);
    const text = await readFile(join(pkg, 'aip.yaml'), 'utf8');
    await writeFile(join(pkg, 'aip.yaml'), text.replace('required: false', 'required: true'));
    const report = validatePaths([pkg], { cwd: process.cwd() });
    assert.equal(report.summary.errors, 1);
    assert.equal(report.diagnostics[0]?.code, 'SC006');
    assert.match(report.diagnostics[0]!.message, /gpu\.required must be false: a wasm module cannot use a GPU/);
    await writeFile(
      join(pkg, 'aip.yaml'),
      text.replace('required: false', 'required: true').replace('type: wasm', 'type: subprocess\n  command: [x]'),
    );
    assert.equal(
      validatePaths([pkg], { cwd: process.cwd() }).summary.errors,
      0,
      'a subprocess package may require one',
    );
  });
});

describe('validate: hostile sizes (issue 10.14)', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('aionctl-manifest-size-');
  });
  after(() => dir.cleanup());

  async function pkgWith(name: string, input: string | undefined, module?: (path: string) => Promise<void>) {
    const pkg = join(dir.path, name);
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'aip.yaml'),
      [
        'apiVersion: aionos/v1',
        'kind: AgentPackage',
        'metadata: {name: demo, version: "1.0.0"}',
        'runtime: {type: wasm, module: m.wasm}',
        ...(input === undefined ? [] : ['entrypoints: {schema: {input: in.json}}']),
        '',
      ].join('\n'),
    );
    if (input !== undefined) await writeFile(join(pkg, 'in.json'), input);
    if (module) await module(join(pkg, 'm.wasm'));
    else await writeFile(join(pkg, 'm.wasm'), WASM);
    return pkg;
  }

  it('120k keys: duplicates are found in linear time (the yaml check took 130 s)', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    for (let i = 0; i < 120_000; i++) lines.push(`k${i.toString(36)}: 1`);
    const file = join(dir.path, 'big.onex.yaml');
    await writeFile(file, [...lines, 'k2s: 2', ''].join('\n'));
    assert.ok((await stat(file)).size < 1024 * 1024);
    const report = validatePaths([file], { cwd: process.cwd() });
    assert.deepEqual(
      report.diagnostics.map((d) => [d.code, d.line, d.message]),
      [['SC002', 120_001, 'duplicate key "k2s": map keys must be unique']],
    );
    // The helper config loading can share: keys compared by value, aliases not followed.
    const doc = parseDocument('a: 1\nb: {x: 1, x: 2}\n"1": a\n1: b\n', { uniqueKeys: false });
    assert.deepEqual(
      findDuplicateKeys(doc.contents).map((d) => d.key),
      ['x'],
    );
  });

  it('an I/O schema nested 5,000 deep or over the size cap is a clear SC021, not exit 70', async () => {
    const deep = `${'{"properties":{"a":'.repeat(5000)}{}${'}}'.repeat(5000)}`;
    const pkg = await pkgWith('deep', deep);
    const r = await runCli(['validate', pkg]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /SC021 {2}input schema "in\.json" nests deeper than 128 levels/);
    const big = await pkgWith('big', `{"description":"${'x'.repeat(MAX_IO_SCHEMA_BYTES)}"}`);
    const b = validatePaths([big], { cwd: process.cwd() });
    assert.equal(b.diagnostics[0]?.code, 'SC021');
    assert.match(b.diagnostics[0]!.message, /limited to 1048576 bytes/);
  });

  it('a 3 GB runtime.module (sparse) is checked by its first 4 bytes only', async () => {
    const pkg = await pkgWith('huge', undefined, async (path) => {
      await writeFile(path, WASM);
      await truncate(path, 3 * 1024 ** 3);
    });
    const before = process.memoryUsage().rss;
    const report = validatePaths([pkg], { cwd: process.cwd() });
    assert.deepEqual(report.diagnostics, []);
    assert.ok(process.memoryUsage().rss - before < 256 * 1024 ** 2, 'the module was not read whole');
    execFileSync('truncate', ['-s', '0', join(pkg, 'm.wasm')]);
    execFileSync('truncate', ['-s', '3G', join(pkg, 'm.wasm')]);
    const bad = validatePaths([pkg], { cwd: process.cwd() });
    assert.equal(bad.diagnostics[0]?.code, 'SC015');
  });
});
