/**
 * Content digests: computing sha256, validating digest strings, and a transform stream that verifies size and
 * digest while bytes flow through it (so nothing unverified is ever kept).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { AionError } from '../errors/index.js';
import type { Descriptor, Digest } from './types.js';

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
/** The general grammar from image-spec descriptor.md: `algorithm ":" encoded`. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigest(value: string): value is Digest {
  return SHA256_RE.test(value);
}

/**
 * Returns `value` as a sha256 digest or throws RG102: a well-formed digest of another algorithm (sha512, blake3)
 * gets its own message so the user knows it is unsupported rather than mistyped.
 */
export function parseDigest(value: string): Digest {
  if (SHA256_RE.test(value)) return value as Digest;
  if (DIGEST_GRAMMAR.test(value)) {
    const algorithm = value.slice(0, value.indexOf(':'));
    if (algorithm !== 'sha256') {
      throw new AionError('RG002', `unsupported digest algorithm "${algorithm}" in ${value}`, {
        hint: 'aionctl reads and writes sha256 digests only',
      });
    }
  }
  throw new AionError('RG002', `malformed digest "${value}"`, {
    hint: 'a digest looks like sha256: followed by 64 lowercase hex characters',
  });
}

/** The hex part of a sha256 digest (validated). */
export function digestHex(digest: string): string {
  return parseDigest(digest).slice('sha256:'.length);
}

export function sha256(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Digest and size of a stream, consumed to the end. */
export async function sha256Stream(stream: Readable): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export function sha256File(path: string): Promise<{ digest: Digest; size: number }> {
  return sha256Stream(createReadStream(path));
}

/** A descriptor for in-memory bytes. */
export function descriptorFor(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

/**
 * Passes bytes through unchanged and fails the stream (RG101) as soon as more than `size` bytes arrive, or at the
 * end when the size or the sha256 differs. Consumers write to a temp file and rename only after `finish`, so a
 * failed verification leaves nothing behind.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private received = 0;
  readonly expected: Descriptor;

  constructor(expected: Descriptor) {
    super();
    parseDigest(expected.digest);
    this.expected = expected;
  }

  get bytesReceived(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.expected.size) {
      callback(mismatch(this.expected, `more than the expected ${this.expected.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.received !== this.expected.size) {
      callback(mismatch(this.expected, `${this.received} bytes instead of ${this.expected.size}`));
      return;
    }
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.expected.digest) {
      callback(mismatch(this.expected, `content hashes to ${actual}`));
      return;
    }
    callback();
  }
}

/** Verifies in-memory bytes against a descriptor (RG101 on mismatch). */
export function verifyBytes(expected: Descriptor, bytes: Uint8Array): void {
  parseDigest(expected.digest);
  if (bytes.length !== expected.size) throw mismatch(expected, `${bytes.length} bytes instead of ${expected.size}`);
  const actual = sha256(bytes);
  if (actual !== expected.digest) throw mismatch(expected, `content hashes to ${actual}`);
}

/** RG009: content that did not match `expected` (`what` says how). */
export function verificationFailed(expected: Descriptor, what: string): AionError {
  return mismatch(expected, what);
}

function mismatch(expected: Descriptor, what: string): AionError {
  return new AionError('RG009', `content of ${expected.digest} failed verification: ${what}`, {
    hint: 'the source is corrupt or was tampered with; nothing was stored',
    details: { digest: expected.digest, size: expected.size },
  });
}

/**
 * Streams that verify themselves (a layout's or a registry's `fetchBlob`) carry the digest they check, so the
 * next stage does not hash the same bytes again: such a stream ends only after its size and digest matched, and
 * errors (so a consumer that commits only after a clean end keeps nothing) otherwise. Set only by the code that
 * does the hashing; a pass-through stage may forward it with `forwardVerified`.
 */
const VERIFIED = Symbol('aionctl.verifiedDigest');

type Branded = Readable & { [VERIFIED]?: string };

/** Marks `stream` as ending only when its bytes match `digest` (see above); returns it. */
export function markVerified<T extends Readable>(stream: T, digest: string): T {
  (stream as Branded)[VERIFIED] = digest;
  return stream;
}

/** Whether `stream` verifies itself against exactly `descriptor`'s digest. */
export function isVerifiedStream(stream: Readable, descriptor: Descriptor): boolean {
  return (stream as Branded)[VERIFIED] === descriptor.digest;
}

/**
 * `to` passes on exactly what `from` delivers and is destroyed with `from`'s error (pipeline): it may claim the
 * same verification. Returns `to`.
 */
export function forwardVerified<T extends Readable>(from: Readable, to: T): T {
  const digest = (from as Branded)[VERIFIED];
  if (digest !== undefined) (to as Branded)[VERIFIED] = digest;
  return to;
}
