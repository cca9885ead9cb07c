/**
 * Matching a payload's `docker-reference` against the identity the verifier expects, like containers/image:
 * an expected repository matches any tag of it (matchRepository); an expected `repo:tag` needs exactly that tag
 * (matchExact: a payload without a tag, as cosign writes, does not match). Names are normalised the docker way
 * (`index.docker.io` = `docker.io`, `docker.io/x` = `docker.io/library/x`, bare `x/y` = `docker.io/x/y`).
 */
import { AionError } from '../errors/index.js';

export interface DockerName {
  /** `registry/path` (normalised). */
  repository: string;
  tag?: string;
  digest?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;

/** Splits `name[:tag][@digest]`. Non-docker names (e.g. `oci:/path`) keep their text as the repository. */
export function parseDockerName(text: string): DockerName {
  let rest = text.trim();
  if (rest === '') throw new AionError('ST005', 'empty docker-reference');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && TAG.test(rest.slice(colon + 1))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: normaliseRepository(rest), tag, digest };
}

export function normaliseRepository(name: string): string {
  if (name.startsWith('oci:') || name.startsWith('store:')) return name;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${registry.toLowerCase()}/${path}`;
}

/** Why `signed` does not satisfy `expected`, or undefined when it does. */
export function identityMismatch(signed: string, expected: string): string | undefined {
  let s: DockerName;
  try {
    s = parseDockerName(signed);
  } catch {
    return `signed docker-reference "${signed}" is not a reference`;
  }
  const e = parseDockerName(expected);
  if (s.repository !== e.repository) return `signed for ${signed}, expected repository ${e.repository}`;
  if (e.tag !== undefined && s.tag !== e.tag)
    return s.tag === undefined
      ? `signed for the repository ${signed} without a tag, expected exactly ${expected}`
      : `signed for tag ${s.tag}, expected exactly ${expected}`;
  return undefined;
}
