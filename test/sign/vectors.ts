import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignatureLayer } from '../../src/lib/sign/index.js';
import { REPO_ROOT } from '../helpers/cli.js';

/** The real cosign vectors (made by cosign and containers/image; provenance in test/vectors/cosign/NOTICE.md). */
export const VECTORS = process.env.AIONCTL_COSIGN_VECTORS ?? join(REPO_ROOT, 'test', 'vectors', 'cosign');

export interface VectorCase {
  case: string;
  reference?: string;
  key?: string | null;
  policy?: string;
  expect: 'accept' | 'reject';
  reason: string;
  rekorKey?: string;
  fulcioCA?: string;
  caRoots?: string;
  caIntermediates?: string;
  identity?: { email?: string; hostname?: string; oidcIssuer?: string };
  artifact?: string;
  keyFile?: string;
  password?: string;
}

export async function loadCases(): Promise<VectorCase[]> {
  return JSON.parse(await readFile(join(VECTORS, 'cases.json'), 'utf8')) as VectorCase[];
}

/** containers/image `dir:` storage of one signature: `\0sigstore-json\n` + JSON {mimeType, payload, annotations}. */
export async function readSignatureFile(path: string): Promise<SignatureLayer> {
  const raw = await readFile(path);
  const prefix = Buffer.from('\0sigstore-json\n');
  if (!raw.subarray(0, prefix.length).equals(prefix)) throw new Error(`${path}: not a sigstore-json signature file`);
  const json = JSON.parse(raw.subarray(prefix.length).toString('utf8')) as {
    mimeType: string;
    payload: string;
    annotations: Record<string, string>;
  };
  return {
    mediaType: json.mimeType,
    payload: Buffer.from(json.payload, 'base64'),
    annotations: json.annotations ?? {},
  };
}

export async function readLayers(folder: string): Promise<SignatureLayer[]> {
  const layers: SignatureLayer[] = [];
  for (let i = 1; ; i++) {
    try {
      layers.push(await readSignatureFile(join(VECTORS, folder, `signature-${i}`)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return layers;
      throw err;
    }
  }
}

export async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** SPKI sha256 of each key-import vector's public key, from the vectors' README. */
export const KEY_IMPORT_FINGERPRINTS: Record<string, string> = {
  'sigstore-rs-cosign_generated_encrypted_empty_private.key':
    '0d8cd6794def5c5e3b42f37bf6ee29bb252ce269771cf3c0785d92fca7be586f',
  'sigstore-rs-ecdsa_encrypted_private.key': '00208863d9785226df9ad68ceb2ad5b43f1f5ddd686147f25116ee088726eb6d',
  'cosign-keys_test-pemsigstorekey.key': 'f1057bf3c114d5486f0bdb3c702596d6154158248980d4be49f6c61fdc62c591',
  'cosign-keys_test-pemcosignkey-rsa.key': 'a6659c08b9909880c6e4bc51cab6fd7265673f67d614c20ba59a18957feb700d',
};
