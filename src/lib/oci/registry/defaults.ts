/** Upload sizes, in a module of their own so command flag definitions can show them without loading the client. */

/**
 * PATCH chunk size for large blobs (streamed, so it costs no memory): 1 GiB, so a blob of up to that size goes up
 * in ONE streamed PATCH as skopeo (containers/image) does. Every PATCH ends with distribution storing the hash
 * state (an fsync) before it answers, and nothing is sent meanwhile: 64 MiB chunks cost a 256 MiB push ~4 of those
 * stalls. A failed PATCH still resumes from the offset the registry reports; `--chunk-size` sets smaller chunks
 * for proxies that cap request bodies.
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024 * 1024;
/** Blobs up to this size go up in one buffered (hence retryable) PUT. */
export const DEFAULT_MONOLITHIC_MAX = 8 * 1024 * 1024;
