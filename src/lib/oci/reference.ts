/**
 * Artifact references, the one grammar every OCI command accepts:
 *
 * - `host[:port]/path[:tag][@sha256:<hex>]`: a registry repository. The first component is a host when it has a
 *   `.` or `:`, is `localhost`, or is a bracketed IPv6 literal (docker's rule). `docker.io`, `index.docker.io` and
 *   `registry-1.docker.io` all become `docker.io`, and a one-component path there gets `library/`.
 *   `localhost`, `127.0.0.1` (any 127.x) and `[::1]` speak plain HTTP; other hosts HTTPS unless `plainHttp`.
 * - `oci:PATH[:tag][@sha256:<hex>]`: an OCI image layout directory. The tag is whatever follows the LAST `:` of
 *   the path when it is a valid tag and holds no `/` (so `oci:./a:b/c` is the path `./a:b/c`, no tag).
 * - `name[:tag][@digest]` with no host (e.g. `acme/agent:1.0`): the local store.
 * - `store:NAME[:tag][@digest]`: the local store, explicitly; NAME may keep the registry host an artifact was
 *   pulled from (`store:ghcr.io/acme/agent:1.0`), as `docker images` lists `ghcr.io/acme/agent`.
 *
 * Tags follow the distribution grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, except that `+` is accepted and stored
 * as `_` (semver build metadata; registries cannot route `+`; Helm does the same), see `normaliseTag`.
 * Only sha256 digests are accepted. Pure: no I/O.
 */
import { AionError } from '../errors/index.js';
import type { ArtifactReference } from './types.js';

export type RegistryReference = Extract<ArtifactReference, { kind: 'registry' }>;
export type LayoutReference = Extract<ArtifactReference, { kind: 'layout' }>;
export type StoreReference = Extract<ArtifactReference, { kind: 'store' }>;

export interface ParseReferenceOptions {
  /** `--plain-http`: talk HTTP (no TLS) to any registry host. */
  plainHttp?: boolean;
}

/** Docker Hub's canonical registry name in references, and the host its API actually answers on. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_LABEL = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
const MAX_REPOSITORY = 255;

function bad(input: string, why: string, hint?: string): AionError {
  return new AionError('RG001', `invalid reference "${input}": ${why}`, {
    hint:
      hint ??
      'use HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST] for a registry, oci:PATH[:TAG] for a layout, NAME[:TAG] for the local store',
  });
}

/** Throws RG002 unless `digest` is `sha256:` + 64 lowercase hex characters. */
export function validateDigest(digest: string, context = digest): void {
  if (DIGEST.test(digest)) return;
  const algorithm = digest.includes(':') ? digest.slice(0, digest.indexOf(':')) : '';
  if (algorithm && algorithm !== 'sha256') {
    throw new AionError('RG002', `unsupported digest algorithm "${algorithm}" in "${context}"`, {
      hint: 'aionctl reads and writes sha256 digests only',
    });
  }
  throw new AionError('RG002', `malformed digest "${digest}" in "${context}"`, {
    hint: 'a digest is sha256: followed by 64 lowercase hex characters',
  });
}

/** `+` becomes `_` (registries cannot route `+`); everything else must already be a valid tag. */
export function normaliseTag(tag: string): string {
  return tag.replaceAll('+', '_');
}

export function isValidTag(tag: string): boolean {
  return TAG.test(normaliseTag(tag));
}

/** Splits a trailing `@digest` and validates it. */
function splitDigest(input: string, rest: string): { rest: string; digest?: string } {
  const at = rest.lastIndexOf('@');
  // `@` not followed by `alg:` is part of a layout path, not a digest.
  if (at < 0 || !rest.slice(at + 1).includes(':')) return { rest };
  const digest = rest.slice(at + 1);
  validateDigest(digest, input);
  return { rest: rest.slice(0, at), digest };
}

function checkTag(input: string, tag: string): string {
  const normal = normaliseTag(tag);
  if (!TAG.test(normal)) {
    throw bad(
      input,
      `"${tag}" is not a valid tag`,
      'a tag is 1-128 characters of letters, digits, _ . - (and + which is stored as _), not starting with . or -',
    );
  }
  return normal;
}

function checkRepository(input: string, repository: string): void {
  if (!repository) throw bad(input, 'the repository name is empty');
  if (repository.length > MAX_REPOSITORY) throw bad(input, `the repository name is longer than ${MAX_REPOSITORY}`);
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw bad(
        input,
        component === ''
          ? 'the repository has an empty path component'
          : `"${component}" is not a valid repository path component`,
        'repository components are lowercase letters and digits, separated by single . _ __ or runs of -',
      );
    }
  }
}

function isHostComponent(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

function checkHost(input: string, host: string): void {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) throw bad(input, `unterminated IPv6 address in "${host}"`);
    name = host.slice(0, close + 1);
    const after = host.slice(close + 1);
    if (after && !after.startsWith(':')) throw bad(input, `unexpected "${after}" after the IPv6 address`);
    port = after ? after.slice(1) : undefined;
    if (!IPV6.test(name)) throw bad(input, `"${name}" is not an IPv6 address`);
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (!name?.split('.').every((label) => HOST_LABEL.test(label))) {
      throw bad(input, `"${name}" is not a valid host name`);
    }
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    throw bad(input, `"${port}" is not a valid port`);
  }
}

/** Hosts that default to plain HTTP: a registry on this machine needs no TLS (docker and oras do the same). */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name ?? '');
}

function parseLayout(input: string, body: string): LayoutReference {
  const { rest, digest } = splitDigest(input, body);
  let path = rest;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    const candidate = rest.slice(colon + 1);
    if (candidate && !candidate.includes('/') && !candidate.includes('\\')) {
      tag = checkTag(input, candidate);
      path = rest.slice(0, colon);
    }
  }
  if (!path) throw bad(input, 'the layout path is empty', 'write oci:PATH[:TAG], e.g. oci:./out:1.0.0');
  return { kind: 'layout', path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Splits `repo[:tag]` (the tag is after the last `:` that follows the last `/`). */
function splitTag(input: string, rest: string): { repository: string; tag?: string } {
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { repository: rest.slice(0, colon), tag: checkTag(input, rest.slice(colon + 1)) };
  return { repository: rest };
}

/** `store:[HOST[:PORT]/]NAME[:tag][@digest]`: a store name, which may keep the registry host. */
function parseStore(input: string, body: string): StoreReference {
  const { rest, digest } = splitDigest(input, body);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hosted = first !== '' && isHostComponent(first);
  if (hosted) checkHost(input, first);
  const { repository, tag } = splitTag(input, hosted ? rest.slice(slash + 1) : rest);
  checkRepository(input, repository);
  const name = hosted ? `${first.toLowerCase()}/${repository}` : repository;
  return { kind: 'store', repository: name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** True when a store name keeps a registry host (`ghcr.io/acme/agent`): it is written `store:NAME`. */
export function isHostedStoreName(name: string): boolean {
  const slash = name.indexOf('/');
  return slash > 0 && isHostComponent(name.slice(0, slash));
}

/**
 * Parses any reference aionctl accepts. Throws RG001 (RG002 for digests) with a message naming the bad part.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ArtifactReference {
  const trimmed = input.trim();
  if (!trimmed) throw bad(input, 'it is empty');
  if (/\s/.test(trimmed)) throw bad(input, 'it contains whitespace');
  if (trimmed.startsWith('oci:')) return parseLayout(input, trimmed.slice('oci:'.length));
  if (trimmed.startsWith('store:')) return parseStore(input, trimmed.slice('store:'.length));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw bad(
      input,
      'URLs are not references',
      'drop the scheme: write HOST/REPOSITORY:TAG (use --plain-http for HTTP)',
    );
  }
  const { rest, digest } = splitDigest(input, trimmed);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? rest : rest.slice(0, slash);
  if (slash < 0 || !isHostComponent(first)) {
    // No host: the local store.
    const { repository, tag } = splitTag(input, rest);
    checkRepository(input, repository);
    return { kind: 'store', repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
  }
  checkHost(input, first);
  let registry = first.toLowerCase();
  const { repository: path, tag } = splitTag(input, rest.slice(slash + 1));
  let repository = path;
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = DOCKER_HUB;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  checkRepository(input, repository);
  return {
    kind: 'registry',
    registry,
    repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    plainHttp: options.plainHttp === true || isLoopbackHost(registry),
  };
}

/** The canonical string form: parseReference(formatReference(r)) gives r back. */
export function formatReference(ref: ArtifactReference): string {
  const suffix = `${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
  switch (ref.kind) {
    case 'registry':
      return `${ref.registry}/${ref.repository}${suffix}`;
    case 'layout':
      return `oci:${ref.path}${suffix}`;
    case 'store':
      return `${isHostedStoreName(ref.repository) ? 'store:' : ''}${ref.repository}${suffix}`;
  }
}

/** The tag-or-digest to resolve: the digest wins when both are given (it pins the content). */
export function referenceSelector(ref: ArtifactReference): string | undefined {
  return ref.digest ?? ref.tag;
}

/** Like `referenceSelector` but throws RG020 when the reference names neither a tag nor a digest. */
export function requireSelector(ref: ArtifactReference, what = 'this command'): string {
  const selector = referenceSelector(ref);
  if (!selector) {
    throw new AionError('RG020', `${formatReference(ref)} names no tag or digest, which ${what} needs`, {
      hint: `add :TAG or @sha256:DIGEST, e.g. ${formatReference(ref)}:1.0.0`,
    });
  }
  return selector;
}

/** The host the registry's HTTP API answers on (Docker Hub's differs from its reference name). */
export function apiHost(ref: RegistryReference): string {
  return ref.registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : ref.registry;
}

/** `http://host` or `https://host` for a registry reference. */
export function registryBaseUrl(ref: RegistryReference): string {
  return `${ref.plainHttp ? 'http' : 'https'}://${apiHost(ref)}`;
}
