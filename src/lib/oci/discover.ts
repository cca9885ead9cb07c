/**
 * `aionctl discover`: the referrers tree of an artifact, as `oras discover` prints it: each referrer (signature
 * bundle, SBOM, attestation) with the referrers of that referrer, recursively, plus cosign's tag-based attachments
 * (`sha256-<hex>.sig` / `.att` / `.sbom`), which are not referrers but what cosign users look for.
 */
import { AionError } from '../errors/index.js';
import { cosignTag, readCosignAttachment, readManifest } from './inspect.js';
import type { Descriptor, ReadTarget } from './types.js';

export interface ReferrerNode {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: Record<string, string>;
  /** Set for cosign's tag-based attachments: the tag that holds it (`sha256-<hex>.sig`). */
  tag?: string;
  referrers: ReferrerNode[];
}

export interface DiscoverResult {
  target: string;
  reference: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  referrers: ReferrerNode[];
}

export interface DiscoverOptions {
  /** Only referrers of this artifactType at the first level (as `oras discover --artifact-type`). */
  artifactType?: string;
  /** How deep to follow referrers of referrers (default 8; 1 = direct referrers only). */
  depth?: number;
  /** Leave out cosign's tag-based attachments. */
  referrersOnly?: boolean;
}

export async function discoverReferrers(
  target: ReadTarget,
  reference: string,
  options: DiscoverOptions = {},
): Promise<DiscoverResult> {
  const depth = options.depth ?? 8;
  if (!Number.isInteger(depth) || depth < 1)
    throw new AionError('CI001', `--depth must be a whole number of at least 1, got ${depth}`);
  const { descriptor, manifest } = await readManifest(target, reference);
  const seen = new Set<string>([descriptor.digest]);
  const walk = async (subject: Descriptor, level: number, artifactType?: string): Promise<ReferrerNode[]> => {
    const nodes: ReferrerNode[] = [];
    for (const r of await target.referrers(subject, artifactType)) {
      if (seen.has(r.digest)) continue;
      seen.add(r.digest);
      nodes.push(await node(r, level));
    }
    if (!options.referrersOnly && artifactType === undefined) {
      for (const kind of ['sig', 'att', 'sbom'] as const) {
        const attached = await readCosignAttachment(target, subject.digest, kind);
        if (!attached || seen.has(attached.descriptor.digest)) continue;
        seen.add(attached.descriptor.digest);
        const n = await node(
          {
            ...attached.descriptor,
            ...(attached.manifest.annotations ? { annotations: attached.manifest.annotations } : {}),
          },
          level,
          attached.manifest.artifactType ?? attached.manifest.config?.mediaType,
        );
        n.tag = cosignTag(subject.digest, kind);
        nodes.push(n);
      }
    }
    return nodes.sort((a, b) => ((a.artifactType ?? '') + a.digest < (b.artifactType ?? '') + b.digest ? -1 : 1));
  };
  const node = async (d: Descriptor, level: number, artifactType?: string): Promise<ReferrerNode> => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    artifactType: d.artifactType ?? artifactType ?? null,
    annotations: d.annotations ?? {},
    referrers: level < depth ? await walk({ mediaType: d.mediaType, digest: d.digest, size: d.size }, level + 1) : [],
  });
  const root: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  return {
    target: target.name,
    reference,
    digest: descriptor.digest,
    mediaType: manifest.mediaType ?? descriptor.mediaType,
    artifactType: manifest.artifactType ?? manifest.config?.mediaType ?? null,
    referrers: await walk(root, 1, options.artifactType),
  };
}

/**
 * The tree as `oras discover` draws it: the subject, its referrers grouped by artifactType, each digest under its
 * type and the referrers of that referrer under the digest.
 */
export function renderReferrerTree(result: DiscoverResult): string[] {
  const lines = [`${result.target}@${result.digest}`];
  const draw = (nodes: ReferrerNode[], prefix: string): void => {
    const groups = new Map<string, ReferrerNode[]>();
    for (const n of nodes) {
      const key = n.artifactType ?? n.mediaType;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    const entries = [...groups.entries()];
    entries.forEach(([type, members], gi) => {
      const lastGroup = gi === entries.length - 1;
      lines.push(`${prefix}${lastGroup ? '└── ' : '├── '}${type}`);
      const groupPrefix = `${prefix}${lastGroup ? '    ' : '│   '}`;
      members.forEach((n, mi) => {
        const last = mi === members.length - 1;
        lines.push(`${groupPrefix}${last ? '└── ' : '├── '}${n.digest}${n.tag ? ` (tag ${n.tag})` : ''}`);
        draw(n.referrers, `${groupPrefix}${last ? '    ' : '│   '}`);
      });
    });
  };
  draw(result.referrers, '');
  return lines;
}
