/** Upload sizes, in a module of their own so command flag definitions can show them without loading the client. */

/** PATCH chunk size for large blobs (streamed, so it costs no memory). */
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;
/** Blobs up to this size go up in one buffered (hence retryable) PUT. */
export const DEFAULT_MONOLITHIC_MAX = 8 * 1024 * 1024;
