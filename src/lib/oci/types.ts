/**
 * The OCI data model and the one interface every place artifacts live implements (registry repository, OCI image
 * layout, the local store). Modelled on oras-go's `content.Storage` + `registry.Repository`, so `copy` is written
 * once over any two targets. Shared contract between the layout/store code and the registry client: change it
 * only in a dedicated commit.
 */
import type { Readable } from 'node:stream';

export const MEDIA_TYPES = {
  imageManifest: 'application/vnd.oci.image.manifest.v1+json',
  imageIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  empty: 'application/vnd.oci.empty.v1+json',
  /** artifactType of an agent package. */
  agentArtifact: 'application/vnd.aionos.agent.v1',
  /** config blob: the package's aip.yaml as canonical JSON. */
  agentConfig: 'application/vnd.aionos.agent.config.v1+json',
  wasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  fileLayer: 'application/vnd.oci.image.layer.v1.tar',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  sigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
} as const;

/** The OCI empty blob `{}`. */
export const EMPTY_DESCRIPTOR = {
  mediaType: MEDIA_TYPES.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
} as const;

/** `sha256:<64 hex>` (the only algorithm we write; others are refused with a clear error). */
export type Digest = `sha256:${string}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  urls?: string[];
  data?: string;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPES.imageManifest;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPES.imageIndex;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest exactly as stored: the bytes are the truth (digests are over them), `descriptor` describes them. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

/** Parsed `host/repo:tag@digest` or `oci:PATH:tag@digest` (see reference.ts). */
export type ArtifactReference =
  | {
      kind: 'registry';
      /** e.g. `127.0.0.1:5000`, `ghcr.io`; `docker.io` normalised. */
      registry: string;
      repository: string;
      tag?: string;
      digest?: string;
      /** true for localhost/127.0.0.1/::1 or --plain-http. */
      plainHttp: boolean;
    }
  | { kind: 'layout'; path: string; tag?: string; digest?: string }
  | { kind: 'store'; repository: string; tag?: string; digest?: string };

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface ReadTarget {
  /** Human name used in messages: `127.0.0.1:5000/team/agent`, `oci:/tmp/layout`, `store`. */
  readonly name: string;
  /** Tag or digest to descriptor. RG error when unknown. */
  resolve(reference: string): Promise<Descriptor>;
  /** Manifest bytes, digest-verified against `descriptor` (or against the resolved digest for a tag). */
  fetchManifest(reference: string | Descriptor): Promise<FetchedManifest>;
  /**
   * A stream of the blob; the stream errors (and nothing is kept) when the bytes do not match the digest, or
   * with an AbortError when `signal` aborts.
   */
  fetchBlob(descriptor: Descriptor, options?: ReadOptions): Promise<Readable>;
  exists(descriptor: Descriptor): Promise<boolean>;
  tags(): Promise<string[]>;
  /** Manifests whose `subject` is `subject` (referrers API, or the `sha256-<hex>` tag-schema fallback). */
  referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]>;
  /** Releases connections (a registry's); idempotent, never throws. Layouts and the store hold none. */
  close(): Promise<void>;
}

export interface PushBlobOptions {
  /**
   * A fresh stream of the same blob from its first byte: lets a registry upload that failed mid-stream resume (or
   * restart) instead of failing the push. Targets that never need it ignore it.
   */
  reopen?: () => Promise<Readable>;
  /** The caller has just seen `exists()` answer false: a registry skips asking again (one round trip less). */
  checkedAbsent?: boolean;
  /**
   * Called as a streamed blob is written or sent, with the bytes taken from `content` so far (progress bars; no
   * extra stream stage). Targets may call it per batch of chunks, or not at all.
   */
  onProgress?: (transferred: number) => void;
}

export interface Target extends ReadTarget {
  /** Stores a blob; verifies size and digest while streaming; no-op when it already exists. */
  pushBlob(descriptor: Descriptor, content: Readable | Uint8Array, options?: PushBlobOptions): Promise<void>;
  /** Stores manifest bytes (must match `descriptor`) and optionally tags them. Maintains referrers for `subject`. */
  pushManifest(descriptor: Descriptor, bytes: Uint8Array, tag?: string): Promise<void>;
  tag(descriptor: Descriptor, tag: string): Promise<void>;
}
