import { BaseCommand, columns, humanSize } from '../lib/cli/index.js';
import { listStoreImages, type StoreImage, storeRoot } from '../lib/oci/index.js';

export interface ImagesResultJson {
  store: string;
  images: StoreImage[];
}

export default class Images extends BaseCommand {
  static override summary = 'List what the local store holds: name, tag, digest, size and signature count.';
  static override description =
    'One line per NAME:TAG in the local store (where pack and pull put artifacts). SIZE is the manifest, config and layers together; SIGNATURES counts cosign .sig signatures and Sigstore bundle referrers of the digest (present in the store, not verified: use aionctl verify). Signature and referrer tags (sha256-<hex>[.sig]) are not listed.';
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images --json'];

  async run(): Promise<ImagesResultJson> {
    await this.parse(Images);
    const images = await listStoreImages(process.env);
    if (!this.jsonEnabled()) {
      const rows = [
        ['NAME', 'TAG', 'DIGEST', 'SIZE', 'SIGNATURES'],
        ...images.map((i) => [i.name, i.tag, i.digest, humanSize(i.size), String(i.signatures)]),
      ];
      for (const line of columns(rows)) this.log(line);
      if (images.length === 0)
        this.diag(`the store (${storeRoot(process.env)}) is empty: aionctl pack DIR or aionctl pull REF`);
    }
    return { store: storeRoot(process.env), images };
  }
}
