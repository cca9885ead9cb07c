import assert from 'node:assert/strict';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ANNOTATIONS, buildPackage, planPack } from '../../src/lib/oci/index.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { aipYaml, writePackage } from '../oci-local/fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
async function scratch(): Promise<string> {
  const dir = await tempDir('aionctl-packignore-');
  cleanups.push(dir.cleanup);
  return dir.path;
}

/** A package with the usual clutter: secrets, node_modules, build output, dotfiles. */
async function clutteredPackage(root: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await writePackage(join(root, 'pkg'), {
    files: {
      '.env': 'OPENAI_API_KEY=sk-secret\n',
      '.git/config': '[core]\n',
      '.aionctl.yaml': 'stamp: {}\n',
      'node_modules/left-pad/index.js': 'module.exports = 1;\n',
      'secrets/token.txt': 'hunter2\n',
      'debug.log': 'noise\n',
      'src/keep.log': 'kept by negation\n',
      'README.md': '# pkg\n',
      ...extra,
    },
  });
  return dir;
}

async function titles(dir: string): Promise<string[]> {
  const artifact = await buildPackage(dir);
  return artifact.manifest.layers.map((l) => l.annotations?.[ANNOTATIONS.title] ?? '');
}

describe('pack ignore rules', () => {
  it('honours .gitignore; leaves out dotfiles and node_modules by default', async () => {
    const dir = await clutteredPackage(await scratch(), { '.gitignore': 'secrets/\n*.log\n!src/keep.log\n' });
    assert.deepEqual(await titles(dir), [
      'README.md',
      'aip.yaml',
      'bin/helper.sh',
      'module.wasm',
      'schemas/input.json',
      'schemas/output.json',
      'src/keep.log',
    ]);
  });

  it('.aionctlignore wins over .gitignore (as .npmignore does)', async () => {
    const dir = await clutteredPackage(await scratch(), {
      '.gitignore': 'README.md\n',
      '.aionctlignore': 'secrets/\n*.log\n',
    });
    const packed = await titles(dir);
    assert.ok(packed.includes('README.md'), '.gitignore is not read when .aionctlignore exists');
    assert.ok(!packed.includes('secrets/token.txt'));
    assert.ok(!packed.includes('debug.log'));
  });

  it('aip.yaml, runtime.module and the schemas aip.yaml names are packed even when ignored', async () => {
    const dir = await clutteredPackage(await scratch(), {
      '.aionctlignore': '*.wasm\nschemas/\naip.yaml\nbin/\n',
    });
    const packed = await titles(dir);
    for (const p of ['aip.yaml', 'module.wasm', 'schemas/input.json', 'schemas/output.json'])
      assert.ok(packed.includes(p), p);
    assert.ok(!packed.includes('bin/helper.sh'), 'an unreferenced file is still ignored');
  });

  it('never produces a title with a segment starting with "."', async () => {
    const dir = await clutteredPackage(await scratch(), { '.aionctlignore': '!.env\n!.git/\n!.*\n' });
    const packed = await titles(dir);
    assert.ok(
      packed.every((t) => t.split('/').every((s) => !s.startsWith('.'))),
      packed.join(', '),
    );
  });

  it('ignored directories are not walked: a dangling link inside node_modules or an ignored dir does not fail', async () => {
    const dir = await clutteredPackage(await scratch(), { '.gitignore': 'cache/\n' });
    await mkdir(join(dir, 'cache'));
    await symlink('/nonexistent/target', join(dir, 'node_modules', 'dangling'));
    await symlink('/etc/passwd', join(dir, 'cache', 'outside'));
    const plan = await planPack(dir);
    assert.ok(plan.files.every((f) => !f.path.startsWith('node_modules/') && !f.path.startsWith('cache/')));
    assert.equal(plan.ignoreFile, '.gitignore');
    // the same link where it is not ignored is still refused
    await symlink('/etc/passwd', join(dir, 'outside'));
    await assert.rejects(planPack(dir), (err: Error & { code?: string }) => err.code === 'FS007');
  });

  it('refuses a manifest that references a file under a dot directory (FS007)', async () => {
    const root = await scratch();
    const yaml = aipYaml('dotref', '1.0.0').replace('schemas/input.json', '.schemas/input.json');
    const dir = await writePackage(join(root, 'pkg'), { aipYaml: yaml });
    await mkdir(join(dir, '.schemas'));
    await writeFile(join(dir, '.schemas/input.json'), '{}');
    await assert.rejects(planPack(dir), (err: Error & { code?: string }) => err.code === 'FS007');
  });

  it('pack --dry-run lists files with sizes and writes nothing; --json gives the same list', async () => {
    const root = await scratch();
    const dir = await clutteredPackage(root, { '.gitignore': 'secrets/\n' });
    const env = { AIONCTL_HOME: join(root, 'home') };
    const human = await runCli(['pack', '--dry-run', dir], { env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^0644 +8 {2}module\.wasm$/m);
    assert.match(human.stdout, /^0755 +\d+ {2}bin\/helper\.sh$/m);
    assert.doesNotMatch(human.stdout, /node_modules|secrets|\.env/);
    assert.match(human.stderr, /file\(s\), \d+ bytes; ignore rules from \.gitignore/);
    const json = parseJson<{ files: { path: string; size: number; mode: string }[]; size: number; ignoreFile: string }>(
      await runCli(['pack', '--dry-run', dir, '--json'], { env }),
    );
    assert.equal(json.ignoreFile, '.gitignore');
    assert.deepEqual(
      json.files.find((f) => f.path === 'module.wasm'),
      { path: 'module.wasm', size: 8, mode: '0644' },
    );
    assert.equal(
      json.size,
      json.files.reduce((s, f) => s + f.size, 0),
    );
    await assert.rejects(stat(join(root, 'home', 'data', 'store', 'index.json')), 'the dry run stored nothing');
  });
});
