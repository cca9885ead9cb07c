/**
 * `pullArtifact`: the whole pull flow as one library call (the `pull` command, install and the daemon share it).
 * Fetch the root manifest once (a caching read-through target), check the extract destination, let the caller's
 * policy check judge the exact digest about to be stored (a refusal throws and nothing is stored), copy the
 * graph into the store, then optionally extract the files from the (verified) store.
 */
import { lstat } from 'node:fs/promises';
import type { Env } from '../env/index.js';
import { AionError, fsError } from '../errors/index.js';
import { cachingReadTarget } from './caching-target.js';
import { type CopyEvent, copyArtifact } from './copy.js';
import { type ExtractedFile, extractPackage } from './extract.js';
import { formatReference, requireSelector } from './reference.js';
import { openStore, storeNameFor } from './store.js';
import type { ArtifactReference, Descriptor, ReadTarget, Target } from './types.js';

export interface PullOptions<V = unknown> {
  /**
   * The trust-policy check of the exact digest about to be stored (`ref` carries it as `digest`): throw to
   * refuse, and nothing is stored. Omitted: the artifact is stored unverified (`--insecure-skip-verify`).
   */
  verify?: (target: ReadTarget, ref: ArtifactReference) => Promise<V>;
  /** Store name (`--name`); default `storeNameFor(ref)` (registry host kept, never an annotation). */
  name?: string;
  /** Opens the store repository NAME; default `openStore(NAME, env)`. Tests pass an in-memory target. */
  store?: (name: string) => Target;
  /** Tag in the store; default the reference's tag (a digest-only pull is stored untagged). */
  tag?: string;
  /** Also write the package files into this directory (absolute); checked before anything is downloaded. */
  extractTo?: string;
  /** Also pull referrers (signatures, SBOMs); default true. */
  referrers?: boolean;
  concurrency?: number;
  onProgress?: (event: CopyEvent) => void;
  signal?: AbortSignal;
  /** Environment (store location); default none. */
  env?: Env;
  /** Directory a relative oci: layout path is resolved against (store naming). */
  cwd?: string;
}

export interface PullResult<V = unknown> {
  /** The reference pulled, pinned: `ref` with the digest that was verified and stored. */
  ref: ArtifactReference;
  descriptor: Descriptor;
  /** Where it is in the store: `{kind: 'store', repository: NAME, tag}`. */
  stored: ArtifactReference & { kind: 'store' };
  /** Files written with `extractTo` (empty without). */
  files: ExtractedFile[];
  /** What `verify` returned; null when no check was given. */
  verified: V | null;
}

/** Refuses an extract destination that exists and is not a directory, before a byte is downloaded. */
export async function assertExtractDestination(dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await lstat(dir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(err, dir);
  }
  if (!isDir) {
    throw new AionError('FS010', `${dir} exists and is not a directory`, {
      hint: '-o takes a directory to write the package files into: give a new or existing directory',
    });
  }
}

export async function pullArtifact<V = unknown>(
  source: ReadTarget,
  ref: ArtifactReference,
  options: PullOptions<V> = {},
): Promise<PullResult<V>> {
  const selector = requireSelector(ref, 'pull');
  const signal = options.signal;
  if (options.extractTo !== undefined) await assertExtractDestination(options.extractTo);
  signal?.throwIfAborted();
  const cached = cachingReadTarget(source);
  let descriptor: Descriptor;
  try {
    descriptor = (await cached.fetchManifest(selector)).descriptor;
  } catch (err) {
    if (err instanceof SyntaxError) throw invalidJson(ref, err);
    throw err;
  }
  const pinned: ArtifactReference = { ...ref, digest: descriptor.digest };
  // Verify the exact digest about to be copied, so a tag moved in between cannot slip through.
  const verified = options.verify ? await options.verify(cached, pinned) : null;
  signal?.throwIfAborted();
  const name = options.name ?? storeNameFor(ref, options.cwd);
  const store = options.store ? options.store(name) : openStore(name, options.env ?? {});
  const tag = options.tag ?? ref.tag;
  try {
    await copyArtifact(cached, descriptor, store, tag, {
      referrers: options.referrers ?? true,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(signal ? { signal } : {}),
    });
    let files: ExtractedFile[] = [];
    if (options.extractTo !== undefined) {
      // Extract from the store: its blobs are verified, and extractPackage refuses hostile titles.
      files = (await extractPackage(store, descriptor, options.extractTo)).files;
    }
    return {
      ref: pinned,
      descriptor,
      stored: { kind: 'store', repository: name, ...(tag ? { tag } : {}) },
      files,
      verified,
    };
  } catch (err) {
    if (err instanceof SyntaxError) throw invalidJson(ref, err);
    throw err;
  } finally {
    await store.close();
  }
}

function invalidJson(ref: ArtifactReference, err: SyntaxError): AionError {
  return new AionError('RG011', `the manifest of ${formatReference(ref)} is not valid JSON`, { cause: err });
}
