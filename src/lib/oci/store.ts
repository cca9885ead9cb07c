/**
 * The default local store: ONE OCI image layout at `resolvePaths().store` shared by every package. A package
 * `NAME:VERSION` is the index.json entry whose ref.name is `NAME:VERSION` (repository, colon, tag), so many
 * packages and versions coexist and skopeo can read one as `oci:STORE:NAME:VERSION`.
 */
import { type Env, resolvePaths } from '../config/index.js';
import { LayoutTarget, REF_NAME } from './layout.js';
import { assertRepository } from './names.js';
import type { Descriptor } from './types.js';

export function storeRoot(env: Env = process.env): string {
  return resolvePaths(env).store;
}

/** The store seen as one repository: tags are the versions of package `repository`. */
export function openStore(repository: string, env: Env = process.env): LayoutTarget {
  assertRepository(repository);
  return new LayoutTarget(storeRoot(env), { refPrefix: `${repository}:`, name: `store ${repository}` });
}

export interface StoreEntry {
  repository: string;
  tag: string;
  descriptor: Descriptor;
}

/** Every `NAME:TAG` in the store, sorted. */
export async function listStore(env: Env = process.env): Promise<StoreEntry[]> {
  const index = await new LayoutTarget(storeRoot(env), { name: 'store' }).readIndex();
  const out: StoreEntry[] = [];
  for (const d of index.manifests) {
    const refName = d.annotations?.[REF_NAME];
    const colon = refName?.lastIndexOf(':') ?? -1;
    if (refName === undefined || colon <= 0) continue;
    out.push({ repository: refName.slice(0, colon), tag: refName.slice(colon + 1), descriptor: d });
  }
  return out.sort((a, b) => (a.repository + ':' + a.tag < b.repository + ':' + b.tag ? -1 : 1));
}
