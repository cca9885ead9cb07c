/**
 * A read-through cache over a ReadTarget for ONE operation (a pull): the root manifest is fetched once although
 * the pull, the trust policy, the signature engine and the copy all read it. Only digest-verified answers are
 * kept (resolve results and manifests); blobs always stream from the source. Not for long-lived use: a tag moved
 * while the operation runs keeps its first answer, which is what one operation wants.
 */
import type { Descriptor, FetchedManifest, ReadOptions, ReadTarget } from './types.js';

export interface CachingReadTarget extends ReadTarget {
  /** How many reads went to the underlying target, by method (for tests and benches). */
  readonly reads: Readonly<Record<'resolve' | 'fetchManifest', number>>;
}

export function cachingReadTarget(source: ReadTarget): CachingReadTarget {
  const resolved = new Map<string, Promise<Descriptor>>();
  const manifests = new Map<string, Promise<FetchedManifest>>();
  const reads = { resolve: 0, fetchManifest: 0 };

  const key = (d: Descriptor): string => `${d.digest}/${d.size}`;

  function remember<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let pending = map.get(key);
    if (!pending) {
      pending = load();
      map.set(key, pending);
      // A failed read is not cached: the next caller tries again.
      pending.catch(() => map.delete(key));
    }
    return pending;
  }

  const target: CachingReadTarget = {
    get name() {
      return source.name;
    },
    reads,
    resolve(reference: string): Promise<Descriptor> {
      return remember(resolved, reference, () => {
        reads.resolve++;
        return source.resolve(reference);
      });
    },
    async fetchManifest(reference: string | Descriptor): Promise<FetchedManifest> {
      if (typeof reference === 'string' && !resolved.has(reference)) {
        // One request for tag + bytes (a registry answers both with one GET); both caches learn the answer.
        reads.fetchManifest++;
        const fetched = source.fetchManifest(reference);
        const descriptor = fetched.then((f) => f.descriptor);
        remember(resolved, reference, () => descriptor);
        const out = await fetched;
        remember(manifests, key(out.descriptor), () => fetched);
        remember(resolved, out.descriptor.digest, () => descriptor);
        return out;
      }
      const descriptor = typeof reference === 'string' ? await target.resolve(reference) : reference;
      const fetched = await remember(manifests, key(descriptor), () => {
        reads.fetchManifest++;
        return source.fetchManifest(descriptor);
      });
      return { descriptor, bytes: fetched.bytes };
    },
    fetchBlob(descriptor: Descriptor, options?: ReadOptions) {
      return source.fetchBlob(descriptor, options);
    },
    exists(descriptor: Descriptor) {
      return source.exists(descriptor);
    },
    tags() {
      return source.tags();
    },
    referrers(subject: Descriptor, artifactType?: string) {
      return source.referrers(subject, artifactType);
    },
    close() {
      return source.close();
    },
  };
  return target;
}
