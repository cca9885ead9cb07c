import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { referenceSchemas } from '../../bench/manifest.js';
import { fastYaml } from '../../src/lib/manifest/fast-yaml.js';
import { plainSchemaIsValid } from '../../src/lib/manifest/meta-fast.js';
import { checkUserSchema } from '../../src/lib/manifest/schema-cache.js';
import { generatedMetaValidator } from '../../src/lib/manifest/schemas.js';
import { readKnownRegular, SCRATCH_BYTES, scratchBuffer } from '../../src/lib/manifest/small-file.js';
import { MAX_DEPTH, nestingDepth } from '../../src/lib/manifest/source.js';
import { expandPaths, validatePaths } from '../../src/lib/manifest/validate.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

const AIP = (extra = '') =>
  [
    'apiVersion: aionos/v1',
    'kind: AgentPackage',
    'metadata:',
    '  name: demo',
    '  version: "1.0.0"',
    'runtime:',
    '  type: subprocess',
    '  command: ["node", "main.mjs"]',
    extra,
  ].join('\n');

const schemaOf = (pad: number) =>
  JSON.stringify({ type: 'object', description: 'x'.repeat(pad), properties: { a: { type: 'string' } } });

describe('validate: the fast reads of walked files (issue 15, session 3)', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('readKnownRegular takes a small file whole and declines every case it cannot prove', async () => {
    const at = (name: string) => join(dir.path, 'raw', name);
    await mkdir(join(dir.path, 'raw', 'sub'), { recursive: true });
    await writeFile(at('small'), 'hello: world\n');
    await writeFile(at('empty'), '');
    await writeFile(at('exact'), Buffer.alloc(SCRATCH_BYTES, 0x61));
    await writeFile(at('big'), Buffer.alloc(SCRATCH_BYTES + 1, 0x61));
    execFileSync('mkfifo', [at('fifo')]);
    const read = (name: string) => {
      const fd = openSync(at(name), constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        return readKnownRegular(fd);
      } finally {
        closeSync(fd);
      }
    };
    assert.equal(read('small'), 13);
    assert.equal(scratchBuffer().toString('utf8', 0, 13), 'hello: world\n');
    assert.equal(read('empty'), undefined, 'an empty file is left to the fstat path');
    assert.equal(read('exact'), undefined, 'a file filling the buffer may be bigger: fstat path');
    assert.equal(read('big'), undefined);
    assert.equal(read('sub'), undefined, 'a directory (EISDIR) is left to the fstat path');
    const started = Date.now();
    assert.equal(read('fifo'), undefined, 'a FIFO without a writer is declined, not waited on');
    assert.ok(Date.now() - started < 5000);
  });

  it('walked and named files give the same report, on every file the fast reads could get wrong', async () => {
    const root = join(dir.path, 'same');
    const schemaLines = (input: string, output: string) =>
      `entrypoints:\n  schema:\n    input: ${input}\n    output: ${output}\n`;
    const variants: Array<[string, string]> = [
      ['schemas/ok.json', 'schemas/big.json'],
      ['schemas/empty.json', 'schemas/bad.json'],
      ['schemas/dir.json', 'schemas/fifo.json'],
      ['./schemas/ok.json', 'schemas//exact.json'],
      ['schemas/missing.json', 'schemas/../schemas/bad.json'],
    ];
    for (const [i, [input, output]] of variants.entries()) {
      const pkg = join(root, `v${i}`);
      await mkdir(join(pkg, 'schemas', 'dir.json'), { recursive: true });
      execFileSync('mkfifo', [join(pkg, 'schemas', 'fifo.json')]);
      await writeFile(join(pkg, 'schemas', 'ok.json'), schemaOf(10));
      await writeFile(join(pkg, 'schemas', 'big.json'), schemaOf(SCRATCH_BYTES + 100));
      await writeFile(join(pkg, 'schemas', 'exact.json'), schemaOf(SCRATCH_BYTES - schemaOf(0).length));
      await writeFile(join(pkg, 'schemas', 'empty.json'), '');
      await writeFile(join(pkg, 'schemas', 'bad.json'), '{"type": 5}');
      await writeFile(join(pkg, 'aip.yaml'), AIP(schemaLines(input, output)));
    }
    await writeFile(join(root, 'empty.onex.yaml'), '');
    await writeFile(join(root, 'nul.onex.yaml'), 'a: b\0\n');
    await writeFile(join(root, 'latin1.onex.yaml'), Buffer.from('a: caf\xe9\n', 'latin1'));
    await writeFile(join(root, 'long.onex.yaml'), `description: ${'d'.repeat(SCRATCH_BYTES + 10)}\n`);
    await writeFile(join(root, 'huge.onex.yaml'), `description: ${'d'.repeat(2 * 1024 * 1024)}\n`);
    await writeFile(join(root, 'dup.onex.yaml'), 'a: 1\na: 2\n');

    const walked = validatePaths(['.'], { cwd: root });
    const names = expandPaths([root]);
    assert.equal(names.length, 11, names.join('\n'));
    assert.ok(walked.summary.errors > 0 && walked.summary.unreadable === 3);
    const named = validatePaths(names, { cwd: root });
    assert.deepEqual(walked.diagnostics, named.diagnostics);
    assert.deepEqual(walked.summary, named.summary);
    const codes = (file: string) =>
      walked.diagnostics.filter((d) => d.file === file).map((d) => `${d.line}:${d.col} ${d.code}`);
    assert.deepEqual(codes(join('v0', 'aip.yaml')), [], 'a small schema, and one over the scratch buffer');
    assert.deepEqual(codes(join('v1', 'aip.yaml')), ['11:12 SC015', '12:13 SC015']);
    assert.deepEqual(codes(join('v2', 'aip.yaml')), ['11:12 SC014', '12:13 SC014']);
    assert.deepEqual(codes(join('v3', 'aip.yaml')), [], 'a path to normalize, and a schema filling the buffer');
    assert.deepEqual(codes(join('v4', 'aip.yaml')), ['11:12 SC014', '12:13 SC015']);
    assert.deepEqual(codes('nul.onex.yaml'), ['1:1 FS004']);
    assert.deepEqual(codes('latin1.onex.yaml'), ['1:1 FS004']);
    assert.deepEqual(codes('huge.onex.yaml'), ['1:1 FS005']);
    assert.deepEqual(codes('dup.onex.yaml'), ['2:1 SC002']);
    assert.ok(!walked.diagnostics.some((d) => d.file === 'long.onex.yaml' && d.code.startsWith('FS')));
  });

  it('the walk skips FIFOs, dot and pruned directories, and keeps the locale order', async () => {
    const root = join(dir.path, 'walk');
    for (const sub of ['B', 'a', '.hidden', 'node_modules', 'c.d']) await mkdir(join(root, sub), { recursive: true });
    for (const sub of ['B', 'a', '.hidden', 'node_modules', 'c.d']) await writeFile(join(root, sub, 'aip.yaml'), AIP());
    await writeFile(join(root, '.x.onex.yaml'), 'a: 1\n');
    execFileSync('mkfifo', [join(root, 'pipe.onex.yaml')]);
    const plain = new Set<string>();
    const found = expandPaths([`${root}/./`], plain);
    assert.deepEqual(found, [
      join(root, '.x.onex.yaml'),
      join(root, 'a', 'aip.yaml'),
      join(root, 'B', 'aip.yaml'),
      join(root, 'c.d', 'aip.yaml'),
    ]);
    assert.ok(!plain.has(join(root, 'pipe.onex.yaml')));
    // Relative paths come back as `join` makes them.
    const cwd = process.cwd();
    try {
      process.chdir(root);
      assert.deepEqual(expandPaths(['.', 'a/', './B']), ['.x.onex.yaml', 'a/aip.yaml', 'B/aip.yaml', 'c.d/aip.yaml']);
    } finally {
      process.chdir(cwd);
    }
    // More entries than the insertion sort takes: the same collator order either way.
    const many = join(root, 'many');
    const names = ['b', 'A', 'a', 'é', 'e', 'Z', '_x', '1', '10', '2', 'B', 'ä'].map((n) => `${n}.onex.yaml`);
    await mkdir(many);
    for (const name of names) await writeFile(join(many, name), 'a: 1\n');
    const collated = [...names].sort(new Intl.Collator().compare).map((n) => join(many, n));
    assert.deepEqual(expandPaths([many]), collated);
    for (let k = 2; k <= 8; k++) {
      const few = join(root, `few${k}`);
      await mkdir(few);
      for (const name of names.slice(0, k)) await writeFile(join(few, name), 'a: 1\n');
      const expected = names
        .slice(0, k)
        .sort(new Intl.Collator().compare)
        .map((n) => join(few, n));
      assert.deepEqual(expandPaths([few]), expected);
    }
    await rm(many, { recursive: true });
    for (let k = 2; k <= 8; k++) await rm(join(root, `few${k}`), { recursive: true });
    const report = validatePaths(['walk'], { cwd: dir.path });
    assert.deepEqual(
      report.files.map((f) => f.file),
      found.map((f) => f.slice(dir.path.length + 1)),
    );
  });

  it('a FIFO or device named on the command line is FS002 at once, never waited on', async () => {
    const named = join(dir.path, 'named');
    await mkdir(named, { recursive: true });
    execFileSync('mkfifo', [join(named, 'aip.yaml')]);
    // validatePaths is synchronous: before the fix, opening the FIFO blocked here forever (no writer).
    const report = validatePaths(['aip.yaml', '/dev/zero'], { cwd: named });
    const codes = report.diagnostics.map((d) => `${d.file} ${d.code}`);
    assert.deepEqual(codes.sort(), ['/dev/zero FS002', 'aip.yaml FS002']);
    for (const d of report.diagnostics) assert.match(d.message, /not a regular file/);
    assert.equal(report.summary.unreadable, 2);
  });

  it('nestingDepth stops past its cap on cyclic and deep values, and collects every $ref', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    assert.equal(nestingDepth(cyclic, 64), 65);
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    assert.equal(nestingDepth(deep, 128), 129);
    const refs: string[] = [];
    const depth = nestingDepth(
      { $ref: '#/a', allOf: [{ $ref: 'x.json' }, { items: { $dynamicRef: '#m', $id: 'inner' } }], $id: 'root' },
      128,
      refs,
    );
    assert.equal(depth, 4);
    assert.deepEqual([...refs].sort(), ['#/a', '#m', '$id:inner', 'x.json']);
    assert.equal(nestingDepth('scalar', 1), 0);
  });

  it('the fast YAML path takes quoted keys, escapes, comments and flow lists exactly as the yaml library reads them', () => {
    const docs = [
      "a: \"x # y\" # comment\nb: 'it''s'   # c\n",
      '"quoted key": 1\n\'single\': "\\u00e9\\t\\"\\\\/"\n',
      'list: ["a, b", \'c\', d ,  -1, 0.5, ~]   \n',
      'k:   plain value  # trailing\nk2: a:b\nk3: http://x:1/y\n',
      'm:\n  - "a"\n  - b: 1\n    c: [x]\n  - - nested\n',
      'long: one\n  two\n  three\n',
      'e: []\nf: {}\ng:\nh: "" \n',
      'a: b # x\u2028y\n',
    ];
    for (const text of docs) {
      const fast = fastYaml(text, MAX_DEPTH);
      assert.ok(fast.ok, `the fast path declined:\n${text}\n${fast.ok ? '' : fast.reason}`);
      assert.deepEqual(fast.data, parseDocument(text, { uniqueKeys: false, strict: true }).toJS(), text);
    }
    for (const text of ['a: "x" y\n', 'a: 1\na: 2\n', '"a": 1\na: 2\n', 'a: "unterminated\n', '__proto__: 1\n']) {
      const fast = fastYaml(text, MAX_DEPTH);
      // Invalid YAML, duplicate keys and `__proto__` are the full parser's to report.
      assert.equal(fast.ok, false, `the fast path must decline:\n${text}`);
    }
  });
});

describe('validate: the fast meta-schema check of I/O schemas (issue 15, session 3)', () => {
  const meta = generatedMetaValidator()!;

  /** Random schemas of tricky keywords and values (seeded, so a failure reproduces). */
  function fuzzSchemas(count: number, seed: number): unknown[] {
    let state = seed;
    const rnd = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
    const keys = [
      ...['type', 'required', 'properties', 'additionalProperties', 'items', 'allOf', 'anyOf', 'oneOf', 'not'],
      ...['minimum', 'maximum', 'exclusiveMinimum', 'multipleOf', 'maxLength', 'minItems', 'minContains'],
      ...['title', 'description', 'format', 'enum', 'const', 'default', 'examples', 'uniqueItems', 'readOnly'],
      ...['$schema', '$comment', 'prefixItems', 'if', 'then', 'contains', 'propertyNames', 'contentEncoding'],
      ...['pattern', '$ref', '$id', 'unevaluatedProperties', 'dependentRequired', 'definitions', 'x-custom'],
    ];
    const scalars: unknown[] = [
      ...[0, -0, 1, -1, 1.5, 0.1, 1e21, 'string', 'object', 'integer', 'strin', '', 'a', 'a(', true, false, null],
      ...['https://json-schema.org/draft/2020-12/schema', 'http://json-schema.org/draft-07/schema#', '#/x'],
    ];
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.45) return pick(scalars);
      if (r < 0.6) return schemaOf(depth + 1);
      if (r < 0.8) {
        const n = Math.floor(rnd() * 3);
        return Array.from({ length: n }, () => (rnd() < 0.5 ? pick(scalars) : schemaOf(depth + 1)));
      }
      const out: Record<string, unknown> = {};
      // Own properties, as JSON.parse makes them (even `__proto__`).
      for (let i = Math.floor(rnd() * 3); i > 0; i--) {
        const key = pick(['a', 'b', '__proto__', 'type']);
        Object.defineProperty(out, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    };
    const schemaOf = (depth: number): unknown => {
      if (rnd() < 0.1) return pick([true, false]);
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--) {
        const key = pick(keys);
        const r = rnd();
        out[key] =
          key === 'type' && r < 0.5
            ? pick(['string', 'object', ['string', 'null'], ['string', 'string'], []])
            : key === 'required' && r < 0.5
              ? pick([['a'], ['a', 'b'], ['a', 'a'], [], [1]])
              : key === 'properties' && r < 0.5
                ? { a: schemaOf(depth + 1), b: pick([true, {}, 1, null]) }
                : value(depth);
      }
      return out;
    };
    return Array.from({ length: count }, () => schemaOf(0));
  }

  it('never vouches for a schema the meta-schema rejects, on 20,000 random schemas', () => {
    let taken = 0;
    let rejected = 0;
    for (const schema of fuzzSchemas(20_000, 15)) {
      const valid = meta(schema);
      if (!valid) rejected++;
      if (!plainSchemaIsValid(schema)) continue;
      taken++;
      assert.equal(valid, true, `the fast check vouched for an invalid schema: ${JSON.stringify(schema)}`);
    }
    assert.ok(taken > 2000 && rejected > 2000, `taken ${taken}, rejected ${rejected}: the fuzz must exercise both`);
  });

  it('takes the reference package schemas and the examples (else the speed is silently lost)', async () => {
    const { input, output } = referenceSchemas(7);
    assert.ok(plainSchemaIsValid(input) && plainSchemaIsValid(output));
    for (const pkg of ['summarize-wasm', 'echo-subprocess']) {
      for (const file of readdirSync(join(REPO_ROOT, 'examples', pkg, 'schemas'))) {
        const schema: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', pkg, 'schemas', file), 'utf8'));
        assert.ok(plainSchemaIsValid(schema), `${pkg}/schemas/${file}`);
      }
    }
  });

  it('declines what it does not check: errors still come from the meta-schema with their position', () => {
    for (const schema of [{ type: 'strin' }, { pattern: '(' }, { $ref: '#/x' }, { minLength: -1 }, [], 'x']) {
      assert.equal(plainSchemaIsValid(schema), false, JSON.stringify(schema));
    }
    assert.match(checkUserSchema({ type: 'object', properties: { a: { minimum: 'x' } } })!, /minimum must be number/);
  });
});
