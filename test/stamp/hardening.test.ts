import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { link, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planStamp, stampFiles } from '../../src/lib/stamp/index.js';
import { processFiles } from '../../src/lib/stamp/process.js';
import { type CliResult, parseJson, runCli, tempDir } from '../helpers/cli.js';
import { fixedContext } from './helpers.js';

interface JsonFile {
  path: string;
  status: string;
  reason?: string;
  fields?: string[];
  error?: { code: string; message: string; hint?: string };
}
interface JsonResult {
  files: JsonFile[];
}

let root: { path: string; cleanup: () => Promise<void> };
let n = 0;
let gitGlobal: string;
const env = () => ({
  AIONCTL_HOME: join(root.path, 'home'),
  SOURCE_DATE_EPOCH: '1700000000',
  GIT_CONFIG_GLOBAL: gitGlobal,
  GIT_CONFIG_NOSYSTEM: '1',
});

async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(root.path, `t${++n}`);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

const stamp = (args: string[], cwd: string, timeoutMs?: number): Promise<CliResult> =>
  runCli(['stamp', ...args], { cwd, env: env(), timeoutMs });
const byPath = (r: JsonResult) => Object.fromEntries(r.files.map((f) => [f.path, f]));

before(async () => {
  root = await tempDir('aionctl-stamp-hard-');
  gitGlobal = join(root.path, 'gitconfig');
  await writeFile(gitGlobal, '');
});
after(() => root.cleanup());

describe('stamp: flags before file arguments (issue 9.1)', () => {
  it('-x GLOB a.py b.py stamps only a.py and b.py; --check -x GLOB unstamped.py fails', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n', 'c.py': 'c = 1\n', 'gen/x.py': 'x = 1\n' });
    const r = parseJson<JsonResult>(await stamp(['-x', 'gen/**', 'a.py', 'b.py', '--json'], dir));
    assert.deepEqual(
      r.files.map((f) => [f.path, f.status]),
      [
        ['a.py', 'stamped'],
        ['b.py', 'stamped'],
      ],
    );
    assert.equal(await readFile(join(dir, 'c.py'), 'utf8'), 'c = 1\n', 'c.py was not named');
    assert.equal(await readFile(join(dir, 'gen/x.py'), 'utf8'), 'x = 1\n');
    const check = await stamp(['--check', '-x', 'gen/**', 'c.py'], dir);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /^c\.py: would stamp/m);
    // Repeated, the flag still collects every glob.
    const both = parseJson<JsonResult>(await stamp(['--check', '-x', 'gen/**', '-x', 'c.py', '--json', '.'], dir));
    assert.deepEqual(Object.keys(byPath(both)).sort(), ['a.py', 'b.py']);
  });
});

describe('stamp --check --diff (issue 9.5)', () => {
  it('a CRLF file gives a patch git apply accepts; stdout holds the patch only', async () => {
    const dir = await tree({ 'a.py': 'x = 1\r\ny = 2\r\n', 'b.sh': 'echo\r\n' });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const r = await stamp(['--check', '--diff', 'a.py', 'b.sh'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stdout.startsWith('--- a/a.py\n'), r.stdout);
    assert.doesNotMatch(r.stdout, /would stamp|check:/);
    assert.match(r.stdout, /^\+# hash: "[0-9a-f]{64}"\r$/m, 'the CR of each added line is kept');
    assert.match(r.stderr, /^a\.py: would stamp \(no metadata block\)$/m);
    await writeFile(join(dir, 'fix.patch'), r.stdout);
    execFileSync('git', ['apply', '--check', 'fix.patch'], { cwd: dir });
    execFileSync('git', ['apply', 'fix.patch'], { cwd: dir });
    const text = await readFile(join(dir, 'a.py'), 'utf8');
    assert.doesNotMatch(text.replace(/\r\n/g, ''), /\n/, 'every line still ends in CRLF');
    assert.equal((await stamp(['--check', 'a.py', 'b.sh'], dir)).code, 0);
  });
});

describe('stamp reasons and defaults (issue 9.6, 9 defaults)', () => {
  it('--owner X on untouched stamped files says "new owner", an edited file says "stale hash"', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n' });
    assert.equal((await stamp(['--owner', 'First', '.'], dir)).code, 0);
    const b = join(dir, 'b.py');
    await writeFile(b, (await readFile(b, 'utf8')).replace('b = 1', 'b = 2'));
    const r = await stamp(['--owner', 'Second', '.'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^a\.py: stamped \(new owner\)$/m);
    assert.match(r.stdout, /^b\.py: stamped \(stale hash: edited since it was stamped\)$/m);
    const json = parseJson<JsonResult>(await stamp(['--check', '--owner', 'Third', '--json', 'a.py'], dir));
    assert.equal(json.files[0]?.reason, 'updated');
    assert.deepEqual(json.files[0]?.fields, ['owner']);
  });

  it('owner comes from git config user.name, else the OS user; .aionctl.yaml and aionctl.lock are skipped', async () => {
    const dir = await tree({
      'a.py': 'a = 1\n',
      '.aionctl.yaml': 'stamp:\n  description: Demo\n',
      'aionctl.lock': 'lock\n',
    });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    execFileSync('git', ['config', 'user.name', 'Ada Lovelace'], { cwd: dir });
    const r = parseJson<JsonResult>(await stamp(['--json', '-v', '.'], dir));
    const files = byPath(r);
    assert.equal(files['.aionctl.yaml']?.status, 'skipped');
    assert.equal(files['.aionctl.yaml']?.reason, 'aionctl-file');
    assert.equal(files['aionctl.lock']?.status, 'skipped');
    assert.equal(await readFile(join(dir, '.aionctl.yaml'), 'utf8'), 'stamp:\n  description: Demo\n');
    const text = await readFile(join(dir, 'a.py'), 'utf8');
    assert.match(text, /^# owner: Ada Lovelace$/m);
    assert.match(text, /^# author: Ada Lovelace$/m);
    assert.match(text, /^# copyright: Ada Lovelace$/m);
    assert.doesNotMatch(text, /OmniNode Team/);
    const plain = await tree({ 'b.py': 'b = 1\n' }); // not a git repository, no global git identity
    assert.equal((await stamp(['b.py'], plain)).code, 0);
    const owner = /^# owner: (.*)$/m.exec(await readFile(join(plain, 'b.py'), 'utf8'))?.[1];
    assert.equal(owner, userInfo().username);
  });

  it('a plain --check never asks git for the owner; --check --diff still does', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n' });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    execFileSync('git', ['config', 'user.name', 'Ada Lovelace'], { cwd: dir });
    const trace = join(dir, '..', `trace${n}`);
    const traced = (args: string[]) => runCli(['stamp', ...args], { cwd: dir, env: { ...env(), GIT_TRACE: trace } });
    assert.equal((await traced(['a.py'])).code, 0);
    assert.match(await readFile(trace, 'utf8'), /config --get user\.name/);
    await writeFile(trace, '');
    const check = await traced(['--check', '.']);
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /^b\.py: would stamp/m);
    assert.match(check.stdout, /check: 2 files: 1 to stamp, 1 up to date/);
    assert.doesNotMatch(await readFile(trace, 'utf8'), /user\.name/);
    const diff = await traced(['--check', '--diff', 'b.py']);
    assert.match(diff.stdout, /^\+# owner: Ada Lovelace$/m);
    assert.match(await readFile(trace, 'utf8'), /config --get user\.name/);
  });
});

describe('stamp values cannot leave the comment (issue 10.4)', () => {
  const PAYLOAD = 'process.stdout.write("PWNED")//';

  it('a line terminator in --description or .aionctl.yaml is refused with MD005; a.js never prints PWNED', async () => {
    for (const terminator of ['\u2028', '\u2029', '\u0085', '\r', '\n', '\v', '\f']) {
      const dir = await tree({ 'a.js': 'console.log("ok");\n' });
      const r = await stamp(['--description', `x${terminator}${PAYLOAD}`, 'a.js'], dir);
      assert.equal(r.code, 3, `U+${terminator.charCodeAt(0).toString(16)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /MD005: --description contains a line break \(U\+[0-9A-F]{4}\)/);
      assert.equal(execFileSync(process.execPath, [join(dir, 'a.js')], { encoding: 'utf8' }), 'ok\n');
    }
    const dir = await tree({
      'a.js': 'console.log("ok");\n',
      '.aionctl.yaml': `stamp:\n  owner: "x\\N${PAYLOAD.replace(/"/g, '\\"')}"\n`,
    });
    const r = await stamp(['a.js'], dir);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /MD005: stamp\.owner in .*\.aionctl\.yaml contains a line break \(U\+0085\)/);
    assert.equal(await readFile(join(dir, 'a.js'), 'utf8'), 'console.log("ok");\n');
  });

  it('a terminator from elsewhere (file name, kept value) is written escaped: the stamped a.js stays inert', async () => {
    const dir = await tree({});
    const name = `a\u2028${PAYLOAD}.js`;
    const ctx = fixedContext();
    const p = planStamp(Buffer.from('console.log("ok");\n'), name, name, ctx);
    assert.ok(p.kind === 'ok' && p.output);
    const out = Buffer.from(p.output).toString('utf8');
    assert.doesNotMatch(out, /[\u2028\u2029\u0085]/);
    assert.match(out, /^\/\/ name: "a\\u2028process/m);
    await writeFile(join(dir, 'a.js'), out);
    assert.equal(execFileSync(process.execPath, [join(dir, 'a.js')], { encoding: 'utf8' }), 'ok\n');
    // A block written by an older version with the raw character is rewritten escaped, not called current.
    const raw = out.replace('\\u2028', '\u2028');
    const again = planStamp(Buffer.from(raw), name, name, ctx);
    assert.ok(again.kind === 'ok' && again.change === 'noncanonical' && again.output);
    assert.equal(Buffer.from(again.output).toString('utf8'), out);
  });
});

describe('stamp file system hazards (issues 10.13, 10.16)', () => {
  it('a FIFO, walked or named, is skipped at once', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n' });
    execFileSync('mkfifo', [join(dir, 'pipe.py')]);
    const named = await stamp(['--json', 'pipe.py', 'a.py'], dir, 20_000);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(byPath(parseJson<JsonResult>(named))['pipe.py']?.reason, 'not-a-file');
    const walked = await stamp(['--check', '--json', '.'], dir, 20_000);
    assert.equal(walked.code, 0, walked.stderr);
    assert.equal(byPath(parseJson<JsonResult>(walked))['pipe.py']?.reason, 'not-a-file');
  });

  it('a hard-linked file is skipped with a reason, the link kept', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n' });
    await link(join(dir, 'a.py'), join(dir, 'b.py'));
    const r = await stamp(['--json', 'a.py'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseJson<JsonResult>(r).files[0]?.reason, 'hard-link');
    assert.equal((await stat(join(dir, 'a.py'))).nlink, 2);
    assert.equal((await stat(join(dir, 'a.py'))).ino, (await stat(join(dir, 'b.py'))).ino);
    const strict = await stamp(['--strict', 'a.py'], dir);
    assert.equal(strict.code, 3);
    assert.match(strict.stderr, /MD006: .*hard links/);
  });

  it('an edit made between read and rename is kept and reported (FS017)', async () => {
    const dir = await tree({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n' });
    const files = ['a.py', 'b.py'].map((f) => ({ abs: join(dir, f), display: f, explicit: true }));
    const results = await processFiles(files, {
      check: false,
      concurrency: 4,
      context: fixedContext(),
      afterPlan: (path) => {
        if (path.endsWith('a.py')) execFileSync('sh', ['-c', `printf 'edit = 2\\n' >> "${path}"`]);
      },
    });
    const a = results.find((r) => r.path === 'a.py');
    assert.equal(a?.status, 'error');
    assert.equal(a?.error?.code, 'FS017');
    assert.equal(await readFile(join(dir, 'a.py'), 'utf8'), 'a = 1\nedit = 2\n');
    assert.equal(results.find((r) => r.path === 'b.py')?.status, 'stamped');
  });

  it('no append is lost while stamp runs over files being appended to', async () => {
    const count = 60;
    const files: Record<string, string> = {};
    for (let i = 0; i < count; i++) files[`f${i}.py`] = `v = ${i}\n`;
    const dir = await tree(files);
    const appends = 1500;
    const appender = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs');
         const end = Date.now() + 60000;
         let i = 0;
         const tick = () => {
           for (let k = 0; k < 5 && i < ${appends}; k++, i++) fs.appendFileSync('f' + (i % ${count}) + '.py', 'm' + i + ' = 1\\n');
           if (i < ${appends} && Date.now() < end) setTimeout(tick, 2);
         };
         tick();`,
      ],
      { cwd: dir, stdio: 'inherit' },
    );
    const done = new Promise<number | null>((resolve) => appender.on('exit', resolve));
    let finished = false;
    void done.then(() => (finished = true));
    let runs = 0;
    while (!finished || runs < 2) {
      const r = await stamp(['-j', '16', '.'], dir);
      assert.ok(r.code === 0 || /FS017/.test(r.stderr), r.stderr);
      runs++;
    }
    assert.equal(await done, 0);
    let found = 0;
    for (let i = 0; i < count; i++) {
      const text = await readFile(join(dir, `f${i}.py`), 'utf8');
      found += (text.match(/^m\d+ = 1$/gm) ?? []).length;
    }
    assert.equal(found, appends, `appends lost over ${runs} stamp runs`);
  });

  it('a name too long is FS016 (not "check permissions"); an alias bomb in a block is MD003', async () => {
    const dir = await tree({});
    const long = `${'x'.repeat(300)}.py`;
    const r = await stamp([long], dir);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /FS016: .*too long/);
    assert.doesNotMatch(r.stderr, /permissions/);
    const bomb = [
      '# === OmniNode:Metadata ===',
      '# a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      '# b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      '# c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      '# d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      '# e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      '# f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      '# === /OmniNode:Metadata ===',
      'x = 1',
      '',
    ].join('\n');
    const bdir = await tree({ 'bomb.py': bomb });
    const b = await stamp(['bomb.py'], bdir);
    assert.equal(b.code, 3, b.stdout + b.stderr);
    assert.match(b.stderr, /MD003: bomb\.py:\d+:\d+: the metadata block is not usable YAML/);
    assert.equal(await readFile(join(bdir, 'bomb.py'), 'utf8'), bomb);
    // The library reports it too (no FS error from a thrown ReferenceError).
    const lib = await stampFiles({
      cwd: bdir,
      paths: ['bomb.py'],
      exclude: [],
      ignore: [],
      check: true,
      strict: false,
      threads: 1,
      context: fixedContext(),
    });
    assert.equal(lib.files[0]?.error?.code, 'MD003');
  });
});
