/** Tag and repository grammar (distribution-spec), checked before anything is written. */
import { AionError } from '../errors/index.js';

const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const REPOSITORY_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function assertTag(tag: string): string {
  if (!TAG_RE.test(tag)) {
    throw new AionError('RG105', `invalid tag "${tag}"`, {
      hint: tag.includes('+')
        ? 'tags cannot contain "+": write it as "_" (as Helm does), e.g. 1.0.0_build.1'
        : 'a tag is 1-128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"',
    });
  }
  return tag;
}

export function assertRepository(name: string): string {
  if (name.length > 255 || !REPOSITORY_RE.test(name)) {
    throw new AionError('RG105', `invalid repository name "${name}"`, {
      hint: 'use lowercase letters, digits and single separators (".", "_", "-", "/"), e.g. team/summarize_text',
    });
  }
  return name;
}

/** A package version as a tag: semver build metadata `+` becomes `_` (Helm's convention; tags forbid `+`). */
export function versionToTag(version: string): string {
  return assertTag(version.replaceAll('+', '_'));
}

/** `sha256-<hex>`: the referrers tag-schema tag for a subject digest. */
export function referrersTagFor(digest: string): string {
  return digest.replace(':', '-');
}
