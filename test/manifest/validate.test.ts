import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPackage, validatePaths } from '../../src/lib/manifest/index.js';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const AIP = [
  'apiVersion: aionos/v1',
  'kind: AgentPackage',
  'metadata:',
  '  name: demo',
  '  version: "1.0.0"',
  'runtime:',
  '  type: subprocess',
  '  command: ["node", "main.mjs"]',
  '',
].join('\n');

describe('validate', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('the examples in examples/ are all valid', async () => {
    const result = await runCli(['validate', 'examples', '--json']);
    const report = parseJson<{ summary: { files: number; errors: number } }>(result);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(report.summary.errors, 0);
    assert.ok(
      report.summary.files >= 6,
      `expected the example packages and registry files, got ${report.summary.files}`,
    );
  });

  it('reports every problem of every file in one run, in file:line:col order, human form too', async () => {
    const root = join(dir.path, 'many');
    await mkdir(join(root, 'a'), { recursive: true });
    await mkdir(join(root, 'b'), { recursive: true });
    await writeFile(join(root, 'a', 'aip.yaml'), AIP.replace('"1.0.0"', '"x"') + 'permissions:\n  network: maybe\n');
    await writeFile(join(root, 'b', 'aip.yaml'), AIP.replace('name: demo', 'name: Demo'));
    const result = await runCli(['validate', '.'], { cwd: root });
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(/\s{2}/).slice(0, 2).join(' ')),
      ['a/aip.yaml:5:12 SC007', 'a/aip.yaml:10:12 SC006', 'b/aip.yaml:4:9 SC007'],
    );
    assert.match(result.stderr, /3 problem\(s\) in 2 of 2 file\(s\)/);
  });

  it('--format sarif emits SARIF 2.1.0 with rules and positioned results', async () => {
    const root = join(dir.path, 'sarif');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'aip.yaml'), AIP + 'extra: 1\n');
    const result = await runCli(['validate', 'aip.yaml', '--format', 'sarif'], { cwd: root });
    assert.equal(result.code, 1);
    const sarif = JSON.parse(result.stdout) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: { locations: { physicalLocation: { artifactLocation: { uri: string }; region: unknown } }[] }[];
      }[];
    };
    assert.equal(sarif.version, '2.1.0');
    assert.deepEqual(
      sarif.runs[0]!.tool.driver.rules.map((r) => r.id),
      ['SC008'],
    );
    const region = sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation;
    assert.equal(region.artifactLocation.uri, 'aip.yaml');
    assert.deepEqual(region.region, { startLine: 9, startColumn: 1 });
  });

  it('refuses oversized files with FS005 (exit 3) and still reports the other files', async () => {
    const root = join(dir.path, 'big');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'huge.onex.yaml'), `description: ${'a'.repeat(10 * 1024 * 1024)}\n`);
    await writeFile(join(root, 'aip.yaml'), AIP + 'bogus: true\n');
    const report = validatePaths(['.'], { cwd: root });
    assert.deepEqual(
      report.diagnostics.map((d) => d.code),
      ['SC008', 'FS005'],
    );
    const result = await runCli(['validate', '.'], { cwd: root });
    assert.equal(result.code, 3);
  });

  it('a missing path is reported as FS001 in the report, not thrown', () => {
    const report = validatePaths(['no-such-file.yaml'], { cwd: dir.path });
    assert.equal(report.diagnostics[0]?.code, 'FS001');
  });

  it('hostile nesting and alias floods are SC009', async () => {
    const root = join(dir.path, 'hostile');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'deep.onex.yaml'), `x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    await writeFile(join(root, 'deep2.onex.yaml'), `x: ${'['.repeat(80)}${']'.repeat(80)}\n`);
    const report = validatePaths(['.'], { cwd: root });
    assert.deepEqual(
      report.diagnostics.map((d) => d.code),
      ['SC009', 'SC009'],
    );
  });

  it('no manifests at all is a usage error (exit 2)', async () => {
    const root = join(dir.path, 'empty');
    await mkdir(root, { recursive: true });
    const result = await runCli(['validate', '.'], { cwd: root });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /CI001: no manifests found/);
  });

  it('loadPackage returns the typed manifest or throws the first problem with its position', async () => {
    const ok = join(dir.path, 'pkg-ok');
    await mkdir(ok, { recursive: true });
    await writeFile(join(ok, 'aip.yaml'), AIP);
    const loaded = loadPackage(ok);
    assert.equal(loaded.manifest.metadata.name, 'demo');
    assert.deepEqual(loaded.manifest.runtime.command, ['node', 'main.mjs']);
    const bad = join(dir.path, 'pkg-bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'aip.yaml'), AIP.replace('type: subprocess', 'type: docker'));
    assert.throws(
      () => loadPackage(bad),
      (err: { code: string; position: { line: number; col: number } }) =>
        err.code === 'SC006' && err.position.line === 7 && err.position.col === 9,
    );
    assert.throws(() => loadPackage(join(dir.path, 'nothing')), { code: 'SC018' });
    const packNothing = await runCli(['pack', join(dir.path, 'nothing')], {
      env: { AIONCTL_HOME: join(dir.path, 'home') },
    });
    assert.equal(packNothing.code, 3, 'no aip.yaml is unreadable input (exit 3)');
    assert.match(packNothing.stderr, /SC018: .*aip\.yaml is missing/);
  });

  it('the module and schema files must stay inside the package', async () => {
    const root = join(dir.path, 'escape');
    await mkdir(root, { recursive: true });
    await writeFile(join(dir.path, 'outside.json'), '{}');
    await writeFile(join(root, 'aip.yaml'), AIP + 'entrypoints:\n  schema:\n    input: ../outside.json\n');
    const report = validatePaths(['aip.yaml'], { cwd: root });
    assert.equal(report.diagnostics[0]?.code, 'SC014');
    assert.match(report.diagnostics[0]!.message, /outside the package/);
  });

  it('the generated types are current (`npm run gen:types`)', async () => {
    const { generateTypes, KIND_NAMES, schemaFor } = await import('../../src/lib/manifest/index.js');
    const committed = await readFile(join(REPO_ROOT, 'src', 'lib', 'manifest', 'types.generated.ts'), 'utf8');
    assert.equal(committed, generateTypes(KIND_NAMES.map((k) => schemaFor(k))));
  });

  it('every schema is draft 2020-12 with a stable $id, a title and descriptions', async () => {
    const { KIND_NAMES, schemaFor } = await import('../../src/lib/manifest/index.js');
    for (const kind of KIND_NAMES) {
      const schema = schemaFor(kind);
      assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.match(String(schema.$id), /^https:\/\/aionos\.dev\/schemas\/.+\.schema\.json$/);
      assert.ok(schema.title && schema.description, kind);
    }
  });
});
