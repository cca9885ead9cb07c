/**
 * An in-memory Target (as oras-go's content/memory): library flows (pullArtifact, transfer) are tested in-process
 * with it. It verifies digests and sizes like the real targets, keeps tags and the referrers of each subject, and
 * counts reads so tests can assert "read once".
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AionError } from '../../src/lib/errors/index.js';
import type { Descriptor, FetchedManifest, ReadOptions, Target } from '../../src/lib/oci/index.js';

const sha = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export class MemoryTarget implements Target {
  readonly blobs = new Map<string, Uint8Array>();
  readonly manifests = new Map<string, { descriptor: Descriptor; bytes: Uint8Array }>();
  readonly tagMap = new Map<string, string>();
  readonly reads = { resolve: 0, fetchManifest: 0, fetchBlob: 0 };
  closed = 0;

  constructor(readonly name = 'memory') {}

  async resolve(reference: string): Promise<Descriptor> {
    this.reads.resolve++;
    const digest = reference.startsWith('sha256:') ? reference : this.tagMap.get(reference);
    const found = digest ? this.manifests.get(digest) : undefined;
    if (!found) throw new AionError('RG003', `${reference} not found in ${this.name}`);
    return found.descriptor;
  }

  async fetchManifest(reference: string | Descriptor): Promise<FetchedManifest> {
    this.reads.fetchManifest++;
    const descriptor = typeof reference === 'string' ? await this.resolve(reference) : reference;
    const found = this.manifests.get(descriptor.digest);
    if (!found) throw new AionError('RG003', `manifest ${descriptor.digest} not found in ${this.name}`);
    if (sha(found.bytes) !== descriptor.digest || found.bytes.length !== descriptor.size) {
      throw new AionError('RG009', `manifest ${descriptor.digest} failed verification`);
    }
    return { descriptor, bytes: found.bytes };
  }

  async fetchBlob(descriptor: Descriptor, options: ReadOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    this.reads.fetchBlob++;
    const bytes = this.blobs.get(descriptor.digest) ?? this.manifests.get(descriptor.digest)?.bytes;
    if (!bytes) throw new AionError('RG005', `blob ${descriptor.digest} not found in ${this.name}`);
    return Readable.from([Buffer.from(bytes)], { objectMode: false });
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.blobs.has(descriptor.digest) || this.manifests.has(descriptor.digest);
  }

  async tags(): Promise<string[]> {
    return [...this.tagMap.keys()].sort();
  }

  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for (const { descriptor, bytes } of this.manifests.values()) {
      const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { subject?: Descriptor };
      if (parsed.subject?.digest === subject.digest) out.push(descriptor);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed++;
  }

  async pushBlob(descriptor: Descriptor, content: Readable | Uint8Array): Promise<void> {
    const chunks: Buffer[] = [];
    if (content instanceof Uint8Array) chunks.push(Buffer.from(content));
    else for await (const chunk of content) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (sha(bytes) !== descriptor.digest || bytes.length !== descriptor.size) {
      throw new AionError('RG009', `blob ${descriptor.digest} failed verification`);
    }
    this.blobs.set(descriptor.digest, bytes);
  }

  async pushManifest(descriptor: Descriptor, bytes: Uint8Array, tag?: string): Promise<void> {
    if (sha(bytes) !== descriptor.digest) throw new AionError('RG009', `manifest ${descriptor.digest} mismatch`);
    this.manifests.set(descriptor.digest, { descriptor, bytes });
    if (tag !== undefined) this.tagMap.set(tag, descriptor.digest);
  }

  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    this.tagMap.set(tag, descriptor.digest);
  }

  /** Test helper: stores a small package-shaped artifact (config + one titled layer) under `tag`. */
  async addArtifact(tag: string, files: Record<string, string> = { 'aip.yaml': 'name: x\n' }): Promise<Descriptor> {
    const config = Buffer.from('{}');
    const configDescriptor = { mediaType: 'application/vnd.aionos.agent.config.v1+json', digest: sha(config), size: 2 };
    await this.pushBlob(configDescriptor, config);
    const layers: Descriptor[] = [];
    for (const [path, text] of Object.entries(files)) {
      const bytes = Buffer.from(text);
      const d = {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: sha(bytes),
        size: bytes.length,
        annotations: { 'org.opencontainers.image.title': path },
      };
      await this.pushBlob(d, bytes);
      layers.push(d);
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.aionos.agent.v1',
      config: configDescriptor,
      layers,
      // An artifact may claim any package name: it must never choose where it is stored.
      annotations: { 'dev.aionos.package.name': 'evil/overwrite' },
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = { mediaType: manifest.mediaType, digest: sha(bytes), size: bytes.length };
    await this.pushManifest(descriptor, bytes, tag);
    return descriptor;
  }
}
