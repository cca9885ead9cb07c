/**
 * A package universe for install tests: small real AIPs (the example wasm module, schemas) packed with the
 * library, published to an `oci:DIR` folder (one OCI layout per package, DIR/NAME/) and/or a real registry
 * (HOST/agents/NAME), signed with a generated key, plus an unsigned package and one signed by an untrusted key.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyArtifact, LayoutTarget, pack, parseReference, openTarget, versionToTag } from '../../src/lib/oci/index.js';
import type { Target } from '../../src/lib/oci/types.js';
import { generateSigningKey, publicKeyPem, type Signer, signArtifact, signBytes } from '../../src/lib/sign/index.js';
import { REPO_ROOT } from './cli.js';

export interface UniversePackage {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  /** 'trusted' (default), 'untrusted' (signed by another key) or 'unsigned'. */
  signing?: 'trusted' | 'untrusted' | 'unsigned';
  /** Extra bytes in a file, to make two builds of one version differ. */
  salt?: string;
}

/** The universe the install tests use: versions, prereleases, a +build tag, a diamond, a conflict, a cycle. */
export const UNIVERSE: UniversePackage[] = [
  // a diamond: app -> left, right -> base (^1.1.0 and ~1.1.0 meet at 1.1.5)
  { name: 'app', version: '1.0.0', dependencies: { left: '^1.0.0', right: '^1.0.0' } },
  { name: 'left', version: '1.0.0', dependencies: { base: '^1.1.0' } },
  { name: 'right', version: '1.0.0', dependencies: { base: '~1.1.0' } },
  { name: 'base', version: '1.0.0' },
  { name: 'base', version: '1.1.0' },
  { name: 'base', version: '1.1.5' },
  { name: 'base', version: '1.2.0' },
  { name: 'base', version: '1.3.0-rc.1' },
  { name: 'base', version: '2.0.0' },
  // build metadata (tag 1.0.1_build.7) and a prerelease
  { name: 'tool', version: '1.0.0' },
  { name: 'tool', version: '1.0.1+build.7' },
  { name: 'tool', version: '1.1.0-beta.1' },
  // a conflict with the diamond: cx wants base ^2
  { name: 'cx', version: '1.0.0', dependencies: { base: '^2.0.0' } },
  // a cycle
  { name: 'cyca', version: '1.0.0', dependencies: { cycb: '^1.0.0' } },
  { name: 'cycb', version: '1.0.0', dependencies: { cyca: '^1.0.0' } },
  // refused by the trust policy
  { name: 'unsigned', version: '1.0.0', signing: 'unsigned' },
  { name: 'rogue', version: '1.0.0', signing: 'untrusted' },
];

export interface Keys {
  trusted: Signer;
  untrusted: Signer;
  /** Path of the trusted public key (cosign.pub format). */
  trustedPub: string;
}

function signer(): Signer {
  const key = generateSigningKey();
  return { publicKey: key.publicKey, sign: async (data) => signBytes(key.privateKey, data) };
}

/** Generates the trusted and untrusted keys; writes the trusted public key to DIR/trusted.pub. */
export async function makeKeys(dir: string): Promise<Keys> {
  await mkdir(dir, { recursive: true });
  const trusted = signer();
  const untrusted = signer();
  const trustedPub = join(dir, 'trusted.pub');
  await writeFile(trustedPub, publicKeyPem(trusted.publicKey));
  return { trusted, untrusted, trustedPub };
}

/** Writes a small real AIP (example wasm module, JSON schemas) into DIR. */
export async function writeAip(dir: string, p: UniversePackage): Promise<string> {
  await mkdir(join(dir, 'schemas'), { recursive: true });
  await copyFile(join(REPO_ROOT, 'examples', 'summarize-wasm', 'module.wasm'), join(dir, 'module.wasm'));
  await writeFile(join(dir, 'schemas', 'input.json'), '{"type":"object","properties":{"text":{"type":"string"}}}\n');
  await writeFile(
    join(dir, 'schemas', 'output.json'),
    `{"type":"object","description":"${p.name} ${p.version}${p.salt ?? ''}"}\n`,
  );
  const deps = Object.entries(p.dependencies ?? {});
  const yaml = [
    'apiVersion: aionos/v1',
    'kind: AgentPackage',
    'metadata:',
    `  name: ${p.name}`,
    `  version: "${p.version}"`,
    '  license: Apache-2.0',
    'runtime:',
    '  type: wasm',
    '  wasi: true',
    '  module: module.wasm',
    'permissions: {filesystem: deny, network: deny}',
    'entrypoints:',
    '  schema: {input: schemas/input.json, output: schemas/output.json}',
    ...(deps.length ? ['dependencies:', ...deps.map(([n, r]) => `  ${n}: "${r}"`)] : []),
    '',
  ].join('\n');
  await writeFile(join(dir, 'aip.yaml'), yaml);
  return dir;
}

/** Where a package of the universe lives once published. */
export interface Destination {
  /** Opens the repository of NAME. */
  open(name: string): Promise<Target>;
  /** The identity signatures name (docker-reference): `HOST/agents/NAME` or `oci:/abs/DIR/NAME`. */
  identity(name: string): string;
}

export function folderDestination(dir: string): Destination {
  return {
    open: async (name) => new LayoutTarget(join(dir, name)),
    identity: (name) => `oci:${join(dir, name)}`,
  };
}

export function registryDestination(host: string, prefix = 'agents'): Destination {
  return {
    open: (name) => openTarget(parseReference(`${host}/${prefix}/${name}`)),
    identity: (name) => `${host}/${prefix}/${name}`,
  };
}

/** Packs, publishes and signs one package; returns its manifest digest. */
export async function publish(
  workDir: string,
  p: UniversePackage,
  keys: Keys,
  destinations: Destination[],
): Promise<string> {
  const src = await writeAip(join(workDir, 'src', `${p.name}-${p.version}${p.salt ?? ''}`), p);
  const tag = versionToTag(p.version);
  const staging = new LayoutTarget(join(workDir, 'staging', `${p.name}-${p.version}${p.salt ?? ''}`));
  const { descriptor } = await pack(src, () => staging, { tag });
  for (const d of destinations) {
    const target = await d.open(p.name);
    try {
      await copyArtifact(staging, descriptor, target, tag);
      const signing = p.signing ?? 'trusted';
      if (signing !== 'unsigned')
        await signArtifact(target, descriptor.digest, {
          signer: signing === 'trusted' ? keys.trusted : keys.untrusted,
          identity: d.identity(p.name),
        });
    } finally {
      await (target as { close?: () => Promise<void> }).close?.();
    }
  }
  return descriptor.digest;
}

/** Publishes the whole universe (or `packages`); returns name@version -> digest. */
export async function seedUniverse(
  workDir: string,
  keys: Keys,
  destinations: Destination[],
  packages: UniversePackage[] = UNIVERSE,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of packages) out.set(`${p.name}@${p.version}`, await publish(workDir, p, keys, destinations));
  return out;
}

/** A project dir with .aionctl.yaml: registry, packages and a trust rule for the trusted key. */
export async function writeProject(
  dir: string,
  options: { registry: string; trustMatch: string[]; trustedPub: string; packages?: Record<string, string> },
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines = [
    `registry: "${options.registry}"`,
    'packages:',
    ...Object.entries(options.packages ?? {}).map(([n, r]) => `  ${n}: "${r}"`),
    'trust:',
    ...options.trustMatch.map((m) => `  - match: "${m}"\n    keys: ["${options.trustedPub}"]`),
    '',
  ];
  if (Object.keys(options.packages ?? {}).length === 0) lines[1] = 'packages: {}';
  await writeFile(join(dir, '.aionctl.yaml'), lines.join('\n'));
  return dir;
}
