/**
 * Duplicate mapping keys in linear time. The yaml library's own `uniqueKeys` check compares each new key with
 * every earlier key of its map: a 912 KB file with 120k keys took 130 s. Parse with `uniqueKeys: false` and call
 * this instead (manifests, .aionctl.yaml, stamp blocks). Imports only `yaml`, so config loading stays light.
 */
import type { Node, Pair, ParsedNode, Scalar, YAMLMap, YAMLSeq } from 'yaml';

// The yaml library tags its nodes with these global symbols; checking them here avoids importing the library, so
// callers that load it lazily (stamp) keep doing so.
const NODE_TYPE = Symbol.for('yaml.node.type');
const kind = (node: unknown): symbol | undefined =>
  node !== null && typeof node === 'object' ? (node as Record<symbol, symbol>)[NODE_TYPE] : undefined;
const isMap = (n: unknown): n is YAMLMap => kind(n) === Symbol.for('yaml.map');
const isSeq = (n: unknown): n is YAMLSeq => kind(n) === Symbol.for('yaml.seq');
const isPair = (n: unknown): n is Pair => kind(n) === Symbol.for('yaml.pair');
const isScalar = (n: unknown): n is Scalar => kind(n) === Symbol.for('yaml.scalar');
const isAlias = (n: unknown): boolean => kind(n) === Symbol.for('yaml.alias');

export interface DuplicateKey {
  /** The key as text. */
  key: string;
  /** Offset of the repeated (second) occurrence in the source text. */
  offset: number;
}

/** Keys are equal as the yaml library compares them: same scalar value (1 and "1" differ). */
function keyId(key: unknown): string | undefined {
  if (key === null || key === undefined) return 'null:';
  if (isScalar(key)) {
    const v = key.value;
    return `${v === null ? 'null' : typeof v}:${String(v)}`;
  }
  return undefined; // a collection or alias as a key: never equal to another by value here
}

/** Every repeated key of every mapping under `root` (at most `limit`), found by an iterative walk. */
export function findDuplicateKeys(root: Node | ParsedNode | null | undefined, limit = 100): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const node = stack.pop();
    if (!node || isAlias(node)) continue;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const id = keyId(pair.key);
        if (id !== undefined) {
          if (seen.has(id)) {
            const range = (pair.key as Node | null)?.range;
            out.push({ key: id.slice(id.indexOf(':') + 1), offset: range?.[0] ?? 0 });
            if (out.length >= limit) break;
          } else seen.add(id);
        }
        if (pair.key && !isScalar(pair.key)) stack.push(pair.key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}
