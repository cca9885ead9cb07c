/** Tag list presentation: hiding referrer-fallback tags and semver ordering (Helm's `_` for `+`). Pure. */
// The two functions alone: semver's index loads all of its ~45 modules, start-up time for every pull and push.
import rcompare from 'semver/functions/rcompare.js';
import valid from 'semver/functions/valid.js';

export type TagSort = 'none' | 'lexical' | 'semver';

export interface TagListOptions {
  /** Keep `sha256-<hex>` referrer-index and cosign tags (hidden by default). */
  all?: boolean;
  sort?: TagSort;
}

const REFERRER_TAG = /^sha256-[a-f0-9]{64}(\.[a-z]+)?$/;

export function isReferrerTag(tag: string): boolean {
  return REFERRER_TAG.test(tag);
}

/** The semver a tag stands for (`1.0.0_build.1` is `1.0.0+build.1`), or undefined. */
export function tagVersion(tag: string): string | undefined {
  const version = tag.replaceAll('_', '+');
  // Strict like Helm's StrictNewVersion: `v1.2.3` and `=1.2.3` are not versions.
  return /^\d/.test(version) && valid(version) !== null ? version : undefined;
}

/**
 * `semver`: highest version first (as Helm resolves), then the tags that are not versions in lexical order.
 * `lexical`: code-point order (distribution 2.8 returns tags unsorted). `none`: as the registry sent them.
 */
export function presentTags(tags: readonly string[], options: TagListOptions = {}): string[] {
  const kept = options.all ? [...tags] : tags.filter((t) => !isReferrerTag(t));
  const sort = options.sort ?? 'lexical';
  if (sort === 'none') return kept;
  const lexical = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (sort === 'lexical') return kept.sort(lexical);
  const versions = kept.filter((t) => tagVersion(t) !== undefined);
  const others = kept.filter((t) => tagVersion(t) === undefined).sort(lexical);
  versions.sort((a, b) => rcompare(tagVersion(a) as string, tagVersion(b) as string) || lexical(a, b));
  return [...versions, ...others];
}
