import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAionError } from '../../src/lib/errors/index.js';
import {
  type PlannedPackage,
  resolve,
  resolveGraph,
  tagToVersion,
  type VersionDeps,
  versionsFromTags,
} from '../../src/lib/resolve/index.js';

const picks = (plan: PlannedPackage[]) => Object.fromEntries(plan.map((p) => [p.name, p.version]));

function throwsCode(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isAionError(err), String(err));
    assert.equal(err.code, code, err.message);
    return err.message;
  }
  assert.fail(`expected ${code}`);
}

describe('resolver (pure: graph in, plan out)', () => {
  it('picks the highest version satisfying the range', () => {
    const plan = resolveGraph({ a: '^1.2.0' }, { a: { '1.1.0': {}, '1.2.0': {}, '1.9.3': {}, '2.0.0': {} } });
    assert.deepEqual(picks(plan), { a: '1.9.3' });
    assert.deepEqual(plan[0]!.requested, [{ range: '^1.2.0', by: '.aionctl.yaml' }]);
  });

  it('skips prereleases unless the range names one (npm rules)', () => {
    const universe = { a: { '1.0.0': {}, '1.1.0-beta.1': {}, '2.0.0-rc.1': {} } };
    assert.deepEqual(picks(resolveGraph({ a: '^1.0.0' }, universe)), { a: '1.0.0' });
    assert.deepEqual(picks(resolveGraph({ a: '^1.1.0-beta.0' }, universe)), { a: '1.1.0-beta.1' });
    assert.deepEqual(picks(resolveGraph({ a: '>=1.0.0' }, universe)), { a: '1.0.0' });
    assert.deepEqual(picks(resolveGraph({ a: '2.0.0-rc.1' }, universe)), { a: '2.0.0-rc.1' });
  });

  it('reads `_` in a tag as `+` and ignores tags that are not semver', () => {
    assert.equal(tagToVersion('1.0.0_build.7'), '1.0.0+build.7');
    assert.equal(tagToVersion('latest'), undefined);
    const versions = versionsFromTags(['latest', '1.0.0', '1.0.1_build.2', 'sha256-abc.sig', 'v2.0.0']);
    assert.deepEqual(Object.fromEntries(versions), {
      '1.0.0': '1.0.0',
      '1.0.1+build.2': '1.0.1_build.2',
      '2.0.0': 'v2.0.0',
    });
    const plan = resolveGraph({ a: '^1.0.0' }, { a: { '1.0.0': {}, '1.0.1+build.2': {} } });
    assert.deepEqual(picks(plan), { a: '1.0.1+build.2' });
  });

  it('resolves a diamond to one version per name, dependencies first', () => {
    const plan = resolveGraph(
      { app: '^1.0.0' },
      {
        app: { '1.0.0': { left: '^1.0.0', right: '^1.0.0' } },
        left: { '1.0.0': { base: '^1.1.0' } },
        right: { '1.0.0': { base: '~1.1.0' } },
        base: { '1.0.0': {}, '1.1.0': {}, '1.1.5': {}, '1.2.0': {} },
      },
    );
    assert.deepEqual(picks(plan), { app: '1.0.0', left: '1.0.0', right: '1.0.0', base: '1.1.5' });
    const pos = (n: string) => plan.findIndex((p) => p.name === n);
    assert.ok(pos('base') < pos('left') && pos('base') < pos('right') && pos('left') < pos('app'));
    assert.deepEqual(plan.find((p) => p.name === 'base')!.path, ['app@1.0.0', 'left@1.0.0', 'base@1.1.5']);
  });

  it('a conflict names both paths from the root and the versions that exist', () => {
    const message = throwsCode(
      () =>
        resolveGraph(
          { a: '1.0.0', c: '^1.1.0' },
          {
            a: { '1.0.0': { b: '^2' } },
            c: { '1.1.0': { b: '^1' } },
            b: { '1.0.0': {}, '1.4.0': {}, '2.0.0': {} },
          },
        ),
      'LC002',
    );
    assert.match(message, /a@1\.0\.0 -> b@\^2/);
    assert.match(message, /c@1\.1\.0 -> b@\^1/);
    assert.match(message, /available: 1\.0\.0, 1\.4\.0, 2\.0\.0/);
  });

  it('a range nothing meets names the path (LC001), a missing package has no versions', () => {
    const message = throwsCode(
      () => resolveGraph({ a: '^1.0.0' }, { a: { '1.0.0': { b: '^9' } }, b: { '1.0.0': {} } }),
      'LC001',
    );
    assert.match(message, /\.aionctl\.yaml -> a@1\.0\.0 -> b@\^9 \(available: 1\.0\.0\)/);
    assert.match(
      throwsCode(() => resolveGraph({ zz: '^1' }, {}), 'LC001'),
      /available: none/,
    );
    throwsCode(() => resolveGraph({ a: 'not a range!' }, { a: { '1.0.0': {} } }), 'LC004');
  });

  it('a cycle is reported with the cycle', () => {
    const message = throwsCode(
      () =>
        resolveGraph(
          { x: '^1' },
          { x: { '1.0.0': { y: '^1' } }, y: { '1.2.0': { z: '^1' } }, z: { '1.0.0': { x: '^1' } } },
        ),
      'LC003',
    );
    assert.match(message, /x@1\.0\.0 -> y@1\.2\.0 -> z@1\.0\.0 -> x@1\.0\.0/);
  });

  it('keeps a preferred (locked) version while it satisfies, and moves when it does not', () => {
    const universe = { a: { '1.0.0': {}, '1.5.0': {}, '2.0.0': {} } };
    assert.deepEqual(picks(resolveGraph({ a: '^1' }, universe, { preferred: new Map([['a', '1.0.0']]) })), {
      a: '1.0.0',
    });
    assert.deepEqual(picks(resolveGraph({ a: '^2' }, universe, { preferred: new Map([['a', '1.0.0']]) })), {
      a: '2.0.0',
    });
  });

  it('re-resolves when a pick changes what its dependents ask for', () => {
    // new b 2.x drops c; the older pick of c must not stay in the plan
    const plan = resolveGraph(
      { a: '^1', b: '^2' },
      { a: { '1.0.0': { b: '*' } }, b: { '1.0.0': { c: '^1' }, '2.0.0': {} }, c: { '1.0.0': {} } },
    );
    assert.deepEqual(picks(plan), { a: '1.0.0', b: '2.0.0' });
  });

  it('asks for what it lacks instead of guessing', () => {
    const graph = new Map<string, VersionDeps>([['a', new Map([['1.0.0', undefined]])]]);
    assert.deepEqual(resolve({ roots: { a: '^1' }, graph }), {
      kind: 'need',
      versions: [],
      dependencies: [{ name: 'a', version: '1.0.0' }],
    });
    graph.set('a', new Map([['1.0.0', { b: '^1' }]]));
    assert.deepEqual(resolve({ roots: { a: '^1' }, graph }), { kind: 'need', versions: ['b'], dependencies: [] });
  });
});
