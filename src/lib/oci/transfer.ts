/**
 * `planCopy`, `transfer` and `pushSource`: what `copy` and `push` (and install) share. A plan says what to read
 * from the source, which tag to write and whether blobs can be mounted; `transfer` opens both ends, checks a
 * digest pinned on the destination, copies, and always closes what it opened (also when opening the
 * destination or the pin check throws).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Env } from '../env/index.js';
import { AionError } from '../errors/index.js';
import { type CopyEvent, type CopyResult, copyArtifact } from './copy.js';
import { packDirectory, type PackDirectoryResult } from './pack.js';
import { formatReference, type ParseReferenceOptions, parseReference, requireSelector } from './reference.js';
import type { ArtifactReference, Descriptor, Target } from './types.js';

export interface CopyPlan {
  source: ArtifactReference;
  destination: ArtifactReference;
  /** Tag or digest to read from the source (a digest wins). */
  selector: string;
  /** Tag to write at the destination: its own, else the source's; none for a digest-only copy. */
  tag?: string;
  /** Registry-to-registry on one host: repositories the destination may mount blobs from. */
  mountFrom?: string[];
}

export interface PlanCopyOptions {
  /** Require a tag (or a digest) on the destination when the source has no tag to reuse (push does). */
  requireTag?: boolean;
  /** Command name for messages (`copy`, `push`). */
  what?: string;
}

/** Pure: what a copy from `src` to `dst` reads, writes and may mount. RG020 when the source names no tag/digest. */
export function planCopy(src: ArtifactReference, dst: ArtifactReference, options: PlanCopyOptions = {}): CopyPlan {
  const what = options.what ?? 'copy';
  const selector = requireSelector(src, what);
  const tag = dst.tag ?? src.tag;
  if (options.requireTag && !tag && !dst.digest) requireSelector(dst, `${what} (there is no source tag to reuse)`);
  const mountFrom =
    src.kind === 'registry' && dst.kind === 'registry' && src.registry === dst.registry ? [src.repository] : undefined;
  return {
    source: src,
    destination: dst,
    selector,
    ...(tag ? { tag } : {}),
    ...(mountFrom ? { mountFrom } : {}),
  };
}

/** Opens one end of a transfer; the caller decides how (registry credentials, TLS, chunking, mounts). */
export type OpenEnd = (ref: ArtifactReference, role: 'source' | 'destination', plan: CopyPlan) => Promise<Target>;

export interface TransferOptions {
  open: OpenEnd;
  /** An already open source (push of a directory reads the store it just packed into). */
  source?: Target;
  referrers?: boolean;
  concurrency?: number;
  onProgress?: (event: CopyEvent) => void;
  signal?: AbortSignal;
}

/** Runs a plan: open, resolve, check the destination's pinned digest, copy; closes both ends in every case. */
export async function transfer(plan: CopyPlan, options: TransferOptions): Promise<CopyResult> {
  const src = options.source ?? (await options.open(plan.source, 'source', plan));
  try {
    const dst = await options.open(plan.destination, 'destination', plan);
    try {
      const descriptor = await src.resolve(plan.selector);
      assertPin(plan, descriptor);
      return await copyArtifact(src, descriptor, dst, plan.tag, {
        referrers: options.referrers ?? true,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

function assertPin(plan: CopyPlan, descriptor: Descriptor): void {
  const pinned = plan.destination.digest;
  if (pinned !== undefined && pinned !== descriptor.digest) {
    throw new AionError(
      'CI001',
      `${formatReference(plan.destination)} pins ${pinned} but ${formatReference(plan.source)} is ${descriptor.digest}`,
      { hint: 'drop the @digest from the destination' },
    );
  }
}

export interface PushSourceOptions extends Omit<TransferOptions, 'source'> {
  /** Directory relative sources are resolved against. */
  cwd: string;
  /** Environment: the store location and SOURCE_DATE_EPOCH for a packed directory. */
  env: Env;
  /** How references are parsed (`--plain-http`). */
  parse?: ParseReferenceOptions;
}

export interface PushSourceResult {
  plan: CopyPlan;
  copy: CopyResult;
  /** Set when the source was a directory: what was packed into the store first (pack's defaults). */
  packed?: PackDirectoryResult;
  /** The destination with the tag written and the digest: `HOST/REPO:TAG@sha256:...`. */
  ref: ArtifactReference;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What `push SOURCE TARGET` does. SOURCE is a package directory (packed into the store with pack's defaults,
 * so `push DIR` and `pack DIR` give the same digest) or a reference the store, a layout or a registry holds.
 */
export async function pushSource(
  source: string,
  target: ArtifactReference,
  options: PushSourceOptions,
): Promise<PushSourceResult> {
  if (target.kind === 'store') {
    throw new AionError('CI001', `TARGET ${formatReference(target)} is a local store name`, {
      hint: 'push to a registry (HOST/REPOSITORY:TAG) or a layout (oci:PATH:TAG); pack writes to the store',
    });
  }
  const dir = resolve(options.cwd, source);
  let packed: PackDirectoryResult | undefined;
  let sourceRef: ArtifactReference;
  if (await isDirectory(dir)) {
    packed = await packDirectory(dir, { env: options.env, cwd: options.cwd });
    sourceRef = { ...packed.ref, digest: packed.descriptor.digest };
  } else {
    if (/^(\.{1,2}(\/|$)|\/|~)/.test(source)) {
      throw new AionError('FS001', `${source} is not a package directory`, {
        hint: 'give an existing package directory, or a reference such as NAME:TAG or oci:PATH:TAG',
      });
    }
    sourceRef = parseReference(source, options.parse);
  }
  const plan = planCopy(sourceRef, target, { requireTag: true, what: 'push' });
  const copy = await transfer(plan, options);
  const ref: ArtifactReference = { ...target, ...(plan.tag ? { tag: plan.tag } : {}), digest: copy.descriptor.digest };
  return { plan, copy, ...(packed ? { packed } : {}), ref };
}
