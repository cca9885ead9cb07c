/** Turns a parsed reference into the Target it names: an OCI layout, the default store, or a registry. */
import type { Env } from '../env/index.js';
import { AionError } from '../errors/index.js';
import { LayoutTarget, noLayout } from './layout.js';
import type { ConnectOptions } from './registry/index.js';
import { openStore } from './store.js';
import type { ArtifactReference, ReadTarget, Target } from './types.js';

export interface OpenTargetOptions {
  env?: Env;
  /** How to reach a registry (TLS, chunking, mounts); only used for registry references. */
  registry?: ConnectOptions;
}

export async function openTarget(ref: ArtifactReference, options: OpenTargetOptions = {}): Promise<Target> {
  switch (ref.kind) {
    case 'layout':
      return new LayoutTarget(ref.path);
    case 'store':
      return openStore(ref.repository, options.env ?? {});
    case 'registry': {
      // Loaded on demand: the HTTP client (undici) costs ~200 ms of startup that store/layout commands skip.
      const { connectRegistry } = await import('./registry/index.js');
      return connectRegistry(ref, { env: options.env ?? {}, ...options.registry });
    }
  }
}

/**
 * The tags of what `ref` names, failing when it names nothing: RG030 for a path without a layout, RG031 for a
 * store name nothing was stored under (a registry answers RG004 for an unknown repository itself).
 */
export async function listTags(target: ReadTarget, ref: ArtifactReference): Promise<string[]> {
  if (ref.kind === 'layout' && target instanceof LayoutTarget && !(await target.layoutExists())) {
    throw noLayout(target.root);
  }
  const tags = await target.tags();
  if (ref.kind === 'store' && tags.length === 0) {
    throw new AionError('RG031', `the local store holds nothing named ${ref.repository}`, {
      hint: 'pack or pull it first; store names of pulled artifacts keep the registry: store:HOST/REPOSITORY',
    });
  }
  return tags;
}
