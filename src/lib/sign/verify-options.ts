/** Verification material named on a command line (key refs, Rekor key, CA files, trusted root), loaded once. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Env } from '../env/index.js';
import { AionError, fsError } from '../errors/index.js';
import { parseAnnotations } from './cli-support.js';
import type { ArtifactVerifyOptions } from './engine.js';
import { keySource } from './key-source.js';
import { loadPublicKey } from './keys.js';
import { parseCertificates } from './keyless.js';

/** What `verify`'s flags name; paths are relative to `cwd`. */
export interface VerifySpec {
  /** Public key references: files, `env://VAR`, cosign-style refs (`--key`, repeatable). */
  keys?: readonly string[];
  /** `-a k=v` annotations every signature payload must carry. */
  annotations?: readonly string[];
  rekorKey?: string;
  caRoots?: string;
  caIntermediates?: string;
  certificateIdentities?: readonly string[];
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  cwd?: string;
}

async function readText(path: string, cwd: string | undefined): Promise<string> {
  try {
    return await readFile(cwd ? resolve(cwd, path) : path, 'utf8');
  } catch (err) {
    throw fsError(err, path);
  }
}

/** Loads and checks everything `spec` names; CI001 when it names nothing to verify with. */
export async function loadVerifyOptions(spec: VerifySpec, env: Env): Promise<ArtifactVerifyOptions> {
  const read = (path: string): Promise<string> => readText(path, spec.cwd);
  const keys = [];
  for (const k of spec.keys ?? []) keys.push(await keySource(k, env).publicKey());
  const options: ArtifactVerifyOptions = { keys, annotations: parseAnnotations(spec.annotations) };
  if (spec.rekorKey) options.rekorKeys = [loadPublicKey(await read(spec.rekorKey), spec.rekorKey)];
  if (spec.caRoots) {
    options.certificates = {
      roots: parseCertificates(await read(spec.caRoots)),
      intermediates: spec.caIntermediates ? parseCertificates(await read(spec.caIntermediates)) : [],
      identities: [...(spec.certificateIdentities ?? [])],
      oidcIssuer: spec.certificateOidcIssuer,
    };
    if (options.certificates.roots.length === 0) throw new AionError('ST008', `${spec.caRoots} holds no certificate`);
  }
  if (spec.trustedRoot) {
    try {
      options.trustedRoot = JSON.parse(await read(spec.trustedRoot));
    } catch (err) {
      if (err instanceof AionError) throw err;
      throw new AionError('ST005', `${spec.trustedRoot} is not JSON`, { cause: err });
    }
    options.certificateIdentity = spec.certificateIdentities?.[0];
    options.certificateOidcIssuer = spec.certificateOidcIssuer;
  }
  if (keys.length === 0 && !options.certificates && !options.trustedRoot)
    throw new AionError('CI001', 'nothing to verify with', {
      hint: 'pass --key cosign.pub (or --ca-roots / --trusted-root for certificate signatures)',
    });
  return options;
}
