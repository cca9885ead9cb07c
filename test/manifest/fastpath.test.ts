import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { referenceYaml, referenceManifest, writeReferencePackages } from '../../bench/manifest.js';
import { fastYaml } from '../../src/lib/manifest/fast-yaml.js';
import {
  checkUserSchema,
  configureValidatorCache,
  DEFAULT_VALIDATOR_CACHE_ENTRIES,
  schemaDigest,
  userSchemaAjv,
  userSchemaValidator,
  validatorCacheStats,
} from '../../src/lib/manifest/schema-cache.js';
import {
  GENERATED_VALIDATORS,
  generatedMetaValidator,
  generatedValidators,
  generateValidatorsCode,
  validatorsSourceDigest,
} from '../../src/lib/manifest/schemas.js';
import { MAX_DEPTH, parseSource, parseWithPositions } from '../../src/lib/manifest/source.js';
import { validatePaths, validateSource } from '../../src/lib/manifest/validate.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

/** What the yaml library makes of a text (the fast path must agree whenever it answers). */
function slow(text: string): { errors: number; data: unknown } {
  const doc = parseDocument(text, { uniqueKeys: false, strict: true });
  return { errors: doc.errors.length, data: doc.errors.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined };
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) yamlFiles(full, out);
    else if (/\.ya?ml$/.test(name)) out.push(full);
  }
  return out;
}

/** Random block documents of tricky tokens (seeded, so a failure reproduces). */
function fuzzDocuments(count: number, seed: number): string[] {
  let state = seed;
  const rnd = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const scalars = [
    'a',
    'b c',
    '1',
    '-1',
    '+2',
    '0.5',
    '.5',
    '1.',
    '1e3',
    '0x1f',
    '0o7',
    '~',
    'null',
    'Null',
    'true',
    'False',
    'yes',
    '"q"',
    "'s'",
    '"a\\"b"',
    "'it''s'",
    '"\\u00e9"',
    'a#b',
    'a #c',
    'http://x:1',
    'a: b',
    'a:b',
    '-x',
    '- x',
    '[a, b]',
    '[]',
    '{}',
    '{a: 1}',
    '&a x',
    '*a',
    '!t x',
    '|',
    '>',
    '"',
    "'",
    '',
    'x ',
    '@x',
    '%x',
    '? x',
    ': x',
    ',x',
    'x,y',
    '[a, "b, c"]',
    '[a,]',
    '[ a ,b ]',
    '"x" y',
    '#',
    ' # c',
    '.inf',
    '.nan',
    '1_0',
    '007',
    'é',
    '"\\t"',
    '"\\x41"',
    'a  b',
  ];
  const keys = [
    'a',
    'b',
    'k1',
    'a.b',
    'a-b',
    '"q k"',
    "'s k'",
    'a b',
    '1',
    'true',
    'null',
    '~',
    '<<',
    '__proto__',
    '$x',
    '_',
    'a/b',
    '"a"',
    'é',
    '-a',
    '? a',
  ];
  const block = (indent: number, depth: number): string[] => {
    const lines: string[] = [];
    const seq = rnd() < 0.25;
    for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) {
      const pad = ' '.repeat(indent + (rnd() < 0.03 ? 1 : 0));
      const r = rnd();
      if (seq) {
        if (r < 0.5 || depth > 3) lines.push(`${pad}- ${pick(scalars)}`);
        else if (r < 0.75) lines.push(`${pad}-`, ...block(indent + 2, depth + 1));
        else {
          const sub = block(indent + 2, depth + 1);
          sub[0] = `${pad}- ${sub[0]!.trimStart()}`;
          lines.push(...sub);
        }
      } else {
        const k = pick(keys);
        if (r < 0.55 || depth > 3) lines.push(`${pad}${k}: ${pick(scalars)}`);
        else if (r < 0.65) lines.push(`${pad}${k}: ${pick(scalars)}`, `${pad}  ${pick(scalars)}`);
        else if (r < 0.7) lines.push(`${pad}${k}:`);
        else if (r < 0.75) lines.push(`${pad}${k}:`, ...block(indent, depth + 1));
        else lines.push(`${pad}${k}:${rnd() < 0.2 ? ' # c' : ''}`, ...block(indent + 2, depth + 1));
      }
      if (rnd() < 0.05) lines.push(rnd() < 0.5 ? '' : `${pad}# comment`);
    }
    return lines;
  };
  return Array.from({ length: count }, () => `${block(0, 0).join('\n')}\n`);
}

// Documents the fast path must either decline or read exactly as the yaml library does.
const SNIPPETS = [
  'a: 1\nb: -2\nc: +3\nd: 0755\ne: 1.5\nf: .5\ng: -.5\nh: 1.\ni: 1e3\nj: 0x1F\nk: 0o17\nl: .inf\nm: .nan\n',
  'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: true\ng: True\nh: FALSE\ni: yes\nj: no\nk: on\n',
  "a: \"x\\\"y\\\\z\\n\\t\\u00e9\"\nb: 'it''s'\nc: \"a: b\"\nd: '# not a comment'\ne: x # comment\nf: a#b\n",
  'list:\n  - a\n  - "b"\n  - 3\n  -\n    nested: 1\n  - k: v\n    k2: v2\n  - - inner\n    - inner2\nempty: []\nobj: {}\n',
  'seq:\n- a\n- b\nnext: 1\n',
  'flow: [a, "b, c", \'d\', 1, true, null, ~]\nflow2: [ ]\nflow3: [a,b]\n',
  'long: this is a plain scalar\n  folded over\n  three lines\nafter: x\n',
  'long: folded\n\n  with a blank line\n',
  'url: http://example.com:8080/x\nk : spaced\n"quoted key": 1\n\'single\': 2\n',
  'a: b: c\n',
  'a: 1\n a2: 2\n',
  'a:\n  b: 1\n c: 2\n',
  'a: "unterminated\n  on next line"\n',
  'a: |\n  block\n',
  'a: >\n  folded\n',
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  '---\na: 1\n',
  'a: 1\n...\n',
  '- root\n- seq\n',
  'plain',
  '',
  '# only a comment\n',
  'a: [1, [2]]\n',
  'a: {b: 1}\n',
  'a:\tb\n',
  'a: 1\r\nb: 2\r\n',
  '\ufeffa: 1\n',
  '<<: {a: 1}\n',
  '__proto__: 1\n',
  'true: 1\n',
  '1: a\n',
  'a: `tick\n',
  'a: @at\n',
  'a: - b\n',
  'a: -b\n',
  'a: "x" y\n',
  'a: [a, b] c\n',
  'a: [a, b,]\n',
  'a: x\n  - y\n',
  'a:\n  - x\n  y: 1\n',
  'key with space: 1\n',
  `${'k'.repeat(1100)}: 1\n`,
  'a: "\\x41"\n',
  'a: "\\ud800"\n',
  'a: 1 #c\nb: 2#c\n',
  'a:    spaced   \n',
  'a: b\n  c: d\n',
  'a: "q"   # trailing comment\n',
];

describe('validate: the fast YAML path (issue 15)', { timeout: 600_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('aionctl-fastpath-');
  });
  after(() => dir.cleanup());

  it('reads every YAML file of the repository and every snippet exactly as the yaml library, or declines', () => {
    const texts = [...yamlFiles(REPO_ROOT).map((f) => readFileSync(f, 'utf8')), ...SNIPPETS];
    const taken = agreeOrDecline(texts);
    assert.ok(taken >= 20, `the fast path took only ${taken} documents`);
  });

  it('agrees with the yaml library on 20,000 random documents of tricky tokens (or declines them)', () => {
    const taken = agreeOrDecline(fuzzDocuments(20_000, 15));
    assert.ok(taken >= 500, `the fast path took only ${taken} documents`);
  });

  it('takes the examples, the reference AIP and the bench packages (else the speed is silently lost)', () => {
    for (const file of [
      'examples/summarize-wasm/aip.yaml',
      'examples/echo-subprocess/aip.yaml',
      'examples/registry/intents.yml',
      'test/fixtures/reference-aip/aip.yaml',
    ]) {
      const fast = fastYaml(readFileSync(join(REPO_ROOT, file), 'utf8'), MAX_DEPTH);
      assert.ok(fast.ok, `${file}: ${fast.ok ? '' : fast.reason}`);
    }
    const fast = fastYaml(referenceYaml(7), MAX_DEPTH);
    assert.ok(fast.ok);
    assert.deepEqual(fast.data, referenceManifest(7));
  });

  it('duplicate keys: the fast path declines and both paths report SC002 at the same place', () => {
    const plain = 'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata:\n  name: a\n  name: b\n';
    const fast = fastYaml(plain, MAX_DEPTH);
    assert.equal(fast.ok, false);
    assert.equal(!fast.ok && fast.reason, 'duplicate key');
    const flow = 'apiVersion: aionos/v1\nkind: AgentPackage\nmetadata: {name: a, name: b}\n';
    assert.equal(fastYaml(flow, MAX_DEPTH).ok, false);
    for (const [text, line, col] of [
      [plain, 5, 3],
      [flow, 3, 21],
    ] as const) {
      const parsed = parseSource('x.yaml', text);
      assert.equal(parsed.source, undefined);
      assert.deepEqual(
        parsed.diagnostics.map((d) => [d.code, d.line, d.col]),
        [['SC002', line, col]],
      );
      assert.deepEqual(parseWithPositions('x.yaml', text).diagnostics, parsed.diagnostics);
    }
  });

  it('alias floods and deep nesting: the fast path declines and the full parser refuses them (SC009)', () => {
    const anchors = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      anchors.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const bomb = `${anchors.join('\n')}\n`;
    let deepBlock = '';
    for (let i = 0; i < MAX_DEPTH + 5; i++) deepBlock += `${' '.repeat(i * 2)}k${i}:\n`;
    deepBlock += `${' '.repeat((MAX_DEPTH + 5) * 2)}leaf: 1\n`;
    const deepFlow = `a: ${'['.repeat(MAX_DEPTH + 5)}${']'.repeat(MAX_DEPTH + 5)}\n`;
    for (const [text, reason] of [
      [bomb, undefined],
      [deepBlock, 'depth'],
      [deepFlow, undefined],
    ] as const) {
      const fast = fastYaml(text, MAX_DEPTH);
      assert.equal(fast.ok, false);
      if (reason) assert.equal(!fast.ok && fast.reason, reason);
      const parsed = parseSource('x.onex.yaml', text);
      assert.equal(parsed.source, undefined);
      assert.equal(parsed.diagnostics[0]?.code, 'SC009', JSON.stringify(parsed.diagnostics));
    }
    // Just under the cap, block nesting stays on the fast path and agrees with the yaml library.
    let ok = '';
    for (let i = 0; i < MAX_DEPTH - 2; i++) ok += `${' '.repeat(i * 2)}k${i}:\n`;
    ok += `${' '.repeat((MAX_DEPTH - 2) * 2)}leaf: 1\n`;
    const fast = fastYaml(ok, MAX_DEPTH);
    assert.ok(fast.ok);
    assert.deepEqual(fast.data, slow(ok).data);
  });

  it('positions come from the re-parse: a fast-path file reports the same file:line:col as the full parse', () => {
    const text = readFileSync(join(REPO_ROOT, 'test/fixtures/invalid/sc005-wrong-type/aip.yaml'), 'utf8');
    const extra = `${text}unknown_top: 1\n`;
    for (const t of [text, extra]) {
      const fast = parseSource('aip.yaml', t).source!;
      const full = parseWithPositions('aip.yaml', t).source!;
      assert.ok(fastYaml(t, MAX_DEPTH).ok);
      const a = validateSource(fast, 'agent-package');
      const b = validateSource(full, 'agent-package');
      assert.ok(a.length > 0);
      assert.deepEqual(a, b);
    }
  });

  it('I/O schemas are checked against the meta-schema without compiling; a broken $ref is still SC015', async () => {
    const pkg = join(dir.path, 'refs');
    await mkdir(join(pkg, 'schemas'), { recursive: true });
    const aip = (input: string) =>
      `apiVersion: aionos/v1\nkind: AgentPackage\nmetadata:\n  name: refs\n  version: "1.0.0"\nruntime:\n  type: subprocess\n  command: ["node", "x.mjs"]\nentrypoints:\n  schema:\n    input: "${input}"\n`;
    await writeFile(
      join(pkg, 'schemas', 'ok.json'),
      JSON.stringify({ $defs: { t: { type: 'string' } }, properties: { a: { $ref: '#/$defs/t' } } }),
    );
    await writeFile(join(pkg, 'schemas', 'bad.json'), JSON.stringify({ properties: { a: { $ref: '#/$defs/none' } } }));
    await writeFile(join(pkg, 'schemas', 'meta.json'), JSON.stringify({ type: 'strin' }));
    configureValidatorCache({ clear: true });
    await writeFile(join(pkg, 'aip.yaml'), aip('schemas/ok.json'));
    assert.deepEqual(validatePaths([pkg], { cwd: dir.path }).diagnostics, []);
    assert.equal(validatorCacheStats().entries, 0, 'a valid schema with local refs was compiled');
    await writeFile(join(pkg, 'aip.yaml'), aip('schemas/bad.json'));
    const bad = validatePaths([pkg], { cwd: dir.path }).diagnostics;
    assert.equal(bad[0]?.code, 'SC015');
    assert.match(bad[0]!.message, /does not compile: .*none/);
    await writeFile(join(pkg, 'aip.yaml'), aip('schemas/meta.json'));
    const meta = validatePaths([pkg], { cwd: dir.path }).diagnostics;
    assert.equal(meta[0]?.code, 'SC015');
    assert.match(meta[0]!.message, /is not a valid JSON Schema: \/type must be equal to one of the allowed values/);
    assert.equal(meta[0]!.line, 11);
  });

  it('the build-time meta-schema validator agrees with ajv.validateSchema', () => {
    assert.ok(generatedMetaValidator(), 'the build did not generate the standalone validators');
    const ajv = userSchemaAjv();
    const schemas: unknown[] = [
      { type: 'object' },
      { type: 'strin' },
      { properties: { a: { minimum: 'x' } } },
      { $id: 'not a uri ::: %%' },
      { required: ['a', 'a'] },
      { $defs: { x: { $dynamicAnchor: 'meta' } } },
      { $schema: 'https://json-schema.org/draft/2020-12/schema', items: [{}] },
    ];
    for (const schema of schemas) {
      const expected = ajv.validateSchema(schema as object)
        ? undefined
        : `${ajv.errors?.[0]?.instancePath || '/'} ${ajv.errors?.[0]?.message ?? ''}`.trim();
      assert.equal(checkUserSchema(schema), expected, JSON.stringify(schema));
    }
  });

  it('compiled validators are cached by canonical content digest in a bounded LRU', () => {
    configureValidatorCache({ clear: true, maxEntries: 2 });
    try {
      const a = userSchemaValidator({ type: 'object', required: ['x'] });
      const b = userSchemaValidator({ required: ['x'], type: 'object' });
      assert.equal(a, b);
      assert.equal(schemaDigest({ a: 1, b: [2] }), schemaDigest({ b: [2], a: 1 }));
      assert.equal(validatorCacheStats().entries, 1);
      assert.equal(validatorCacheStats().hits, 1);
      // Same $id in two different schemas: no clash in the shared instance.
      const c = userSchemaValidator({ $id: 'https://example.com/x.json', type: 'string' });
      const d = userSchemaValidator({ $id: 'https://example.com/x.json', type: 'number' });
      assert.equal(c('s'), true);
      assert.equal(d(1), true);
      assert.equal(d('s'), false);
      assert.equal(validatorCacheStats().entries, 2, 'the bound holds');
      // A nested $id of one package's schema is not left behind for another's references.
      const nested = { $defs: { x: { $id: 'https://example.com/nested.json', type: 'string' } } };
      userSchemaValidator({ ...nested, $ref: 'https://example.com/nested.json' });
      assert.throws(() => userSchemaValidator({ $ref: 'https://example.com/nested.json' }), /can't resolve/);
      assert.notEqual(userSchemaValidator({ type: 'object', required: ['x'] }), a, 'the oldest entry was evicted');
    } finally {
      configureValidatorCache({ clear: true, maxEntries: DEFAULT_VALIDATOR_CACHE_ENTRIES });
    }
  });

  it('the standalone validators are current with manifests/*.json (run `npm run build` after editing them)', () => {
    const generated = generatedValidators();
    assert.ok(generated, `${GENERATED_VALIDATORS} is missing`);
    assert.equal(generated.sourceDigest, validatorsSourceDigest());
    assert.equal(readFileSync(GENERATED_VALIDATORS, 'utf8'), generateValidatorsCode());
  });

  it('validates reference-shaped packages: valid, then one broken schema file found with its position', async () => {
    const root = join(dir.path, 'bench');
    await writeReferencePackages(root, 5);
    const ok = validatePaths(['yaml'], { cwd: root });
    assert.equal(ok.summary.files, 5);
    assert.equal(ok.summary.errors, 0, JSON.stringify(ok.diagnostics));
    await writeFile(join(root, 'yaml', 'pkg3', 'schemas', 'summarize_output_3.json'), '{"type": 5}');
    const bad = validatePaths(['yaml'], { cwd: root });
    assert.deepEqual(
      bad.diagnostics.map((d) => [d.file, d.line, d.code]),
      [[join('yaml', 'pkg3', 'aip.yaml'), 31, 'SC015']],
    );
  });
});

/** Asserts the fast path reads each document it takes exactly as the yaml library does; returns how many it took. */
function agreeOrDecline(texts: Iterable<string>): number {
  let taken = 0;
  for (const text of texts) {
    const fast = fastYaml(text, MAX_DEPTH);
    if (!fast.ok) continue;
    taken++;
    const reference = slow(text);
    assert.equal(reference.errors, 0, `the fast path accepted a document the yaml library rejects:\n${text}`);
    assert.deepEqual(fast.data, reference.data, text);
  }
  return taken;
}
