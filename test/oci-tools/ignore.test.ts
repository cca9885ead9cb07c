import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIgnoreMatcher, parseIgnore } from '../../src/lib/oci/index.js';

/** ignored(rules, path, isDirectory) with no default rules. */
function ignored(text: string, path: string, isDirectory = false): boolean {
  return createIgnoreMatcher(text, []).ignores(path, isDirectory);
}

describe('ignore matcher (gitignore syntax)', () => {
  it('skips blank lines and comments; escapes # and !; drops trailing unescaped spaces', () => {
    assert.equal(parseIgnore('\n# comment\n   \n').length, 0);
    assert.ok(ignored('\\#notes', '#notes'));
    assert.ok(ignored('\\!important', '!important'));
    assert.ok(!ignored('\\!important', 'important'));
    assert.ok(ignored('secret.txt   ', 'secret.txt'));
    assert.ok(ignored('trail\\ ', 'trail '));
    assert.ok(ignored('*.log\r\n', 'a.log'), 'CRLF ignore files work');
  });

  it('a pattern without a slash matches at any depth; with one it is anchored', () => {
    assert.ok(ignored('*.log', 'a.log'));
    assert.ok(ignored('*.log', 'deep/dir/a.log'));
    assert.ok(ignored('build', 'src/build', true));
    assert.ok(ignored('/build', 'build', true));
    assert.ok(!ignored('/build', 'src/build', true));
    assert.ok(ignored('doc/frotz', 'doc/frotz'));
    assert.ok(!ignored('doc/frotz', 'a/doc/frotz'), 'a middle slash anchors');
  });

  it('a trailing slash matches directories only, and everything under them', () => {
    assert.ok(ignored('out/', 'out', true));
    assert.ok(!ignored('out/', 'out', false), 'a file named out is kept');
    assert.ok(ignored('out/', 'out/x.txt'));
    assert.ok(ignored('out/', 'pkg/out/deep/x.txt'));
  });

  it('* and ? never cross a slash; classes and negated classes', () => {
    assert.ok(ignored('a/*.txt', 'a/b.txt'));
    assert.ok(!ignored('a/*.txt', 'a/b/c.txt'));
    assert.ok(ignored('file?.md', 'file1.md'));
    assert.ok(!ignored('file?.md', 'file10.md'));
    assert.ok(ignored('data[0-9].csv', 'data7.csv'));
    assert.ok(!ignored('data[0-9].csv', 'datax.csv'));
    assert.ok(ignored('data[!0-9].csv', 'datax.csv'));
    assert.ok(!ignored('data[!0-9].csv', 'data7.csv'));
  });

  it('** forms: leading, trailing, middle', () => {
    assert.ok(ignored('**/foo', 'foo'));
    assert.ok(ignored('**/foo', 'x/y/foo'));
    assert.ok(ignored('**/foo/bar', 'x/foo/bar'));
    assert.ok(ignored('abc/**', 'abc/x/y'));
    assert.ok(!ignored('abc/**', 'abc', true), 'abc/** leaves the directory itself');
    assert.ok(ignored('a/**/b', 'a/b'));
    assert.ok(ignored('a/**/b', 'a/x/y/b'));
    assert.ok(!ignored('a/**/b', 'c/a/b'));
  });

  it('negation: the last matching rule wins; re-including inside a/** works, inside an ignored dir does not', () => {
    assert.ok(!ignored('*.log\n!keep.log', 'keep.log'));
    assert.ok(ignored('!keep.log\n*.log', 'keep.log'), 'order matters');
    assert.ok(!ignored('logs/**\n!logs/keep.txt', 'logs/keep.txt'));
    assert.ok(ignored('logs/**\n!logs/keep.txt', 'logs/other.txt'));
    assert.ok(ignored('logs/\n!logs/keep.txt', 'logs/keep.txt'), 'a file in an excluded directory stays out');
    assert.ok(!ignored('logs/\n!logs/', 'logs/keep.txt'), 'the directory itself can be re-included');
  });

  it('defaults: node_modules out (re-includable), dot segments always out', () => {
    const m = createIgnoreMatcher('');
    assert.ok(m.ignores('node_modules', true));
    assert.ok(m.ignores('lib/node_modules/x/index.js', false));
    assert.ok(!createIgnoreMatcher('!node_modules/').ignores('node_modules/x/index.js', false));
    assert.ok(m.ignores('.env', false));
    assert.ok(m.ignores('a/.hidden/b.txt', false));
    assert.ok(createIgnoreMatcher('!.env\n!.*').ignores('.env', false), 'dotfiles cannot be re-included');
    assert.ok(!m.ignores('src/main.py', false));
  });
});
