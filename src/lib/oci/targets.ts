/** Turns a parsed reference into the Target it names: an OCI layout, the default store, or a registry. */
import type { Env } from '../config/index.js';
import { AionError } from '../errors/index.js';
import { LayoutTarget } from './layout.js';
import { openStore } from './store.js';
import type { ArtifactReference, Target } from './types.js';

export interface OpenTargetOptions {
  env?: Env;
}

export async function openTarget(ref: ArtifactReference, options: OpenTargetOptions = {}): Promise<Target> {
  switch (ref.kind) {
    case 'layout':
      return new LayoutTarget(ref.path);
    case 'store':
      return openStore(ref.repository, options.env ?? process.env);
    case 'registry':
      throw new AionError('RG108', `registry references (${ref.registry}/${ref.repository}) are not supported here`, {
        hint: 'use an oci:PATH layout or a store NAME:VERSION',
      });
  }
}
