import { basename } from 'node:path';

/** Every document kind aionctl validates, each with its schema in manifests/. */
export type ManifestKind =
  'agent-package' | 'intents' | 'policies' | 'models' | 'modules' | 'onex-metadata' | 'aionctl-config';

export interface KindInfo {
  kind: ManifestKind;
  /** Schema file name in manifests/. */
  schemaFile: string;
  /** File names that imply this kind (besides apiVersion/kind detection). */
  fileNames: readonly string[];
  summary: string;
}

export const KINDS: Record<ManifestKind, KindInfo> = {
  'agent-package': {
    kind: 'agent-package',
    schemaFile: 'agent-package.schema.json',
    fileNames: ['aip.yaml', 'aip.yml'],
    summary: 'agent package manifest (aip.yaml, apiVersion aionos/v1, kind AgentPackage)',
  },
  intents: {
    kind: 'intents',
    schemaFile: 'intents.schema.json',
    fileNames: ['intents.yml', 'intents.yaml'],
    summary: 'intent registry (intents.yml)',
  },
  policies: {
    kind: 'policies',
    schemaFile: 'policies.schema.json',
    fileNames: ['policies.yml', 'policies.yaml'],
    summary: 'routing policies (policies.yml)',
  },
  models: {
    kind: 'models',
    schemaFile: 'models.schema.json',
    fileNames: ['models.yml', 'models.yaml'],
    summary: 'model tiers (models.yml)',
  },
  modules: {
    kind: 'modules',
    schemaFile: 'modules.schema.json',
    fileNames: ['modules.yml', 'modules.yaml'],
    summary: 'module registry (modules.yml)',
  },
  'onex-metadata': {
    kind: 'onex-metadata',
    schemaFile: 'onex-metadata.schema.json',
    fileNames: [],
    summary: 'ONEX node metadata (*.onex.yaml)',
  },
  'aionctl-config': {
    kind: 'aionctl-config',
    schemaFile: 'aionctl-config.schema.json',
    // Not picked up by directory walks: the config loader validates these files itself.
    fileNames: [],
    summary: 'aionctl configuration (.aionctl.yaml, config.yaml)',
  },
};

export const KIND_NAMES = Object.keys(KINDS) as ManifestKind[];

// File name -> kind, built once (a directory walk asks for every file it meets).
const KIND_BY_NAME = new Map<string, ManifestKind>(
  KIND_NAMES.flatMap((kind) => KINDS[kind].fileNames.map((name) => [name, kind] as const)),
);

/** The kind a bare file name (no directory) implies, if any. */
function kindFromName(name: string): ManifestKind | undefined {
  if (name.endsWith('.onex.yaml') || name.endsWith('.onex.yml')) return 'onex-metadata';
  return KIND_BY_NAME.get(name);
}

/** The kind a file name implies, if any (case-sensitive, like the tools that read these files). */
export function kindFromFileName(path: string): ManifestKind | undefined {
  return kindFromName(basename(path));
}

/** apiVersion/kind win over the file name: an `aionos/v1 AgentPackage` is a package whatever it is called. */
export function detectKind(path: string, data: unknown): ManifestKind | undefined {
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const record = data as Record<string, unknown>;
    if (record.apiVersion === 'aionos/v1' && record.kind === 'AgentPackage') return 'agent-package';
  }
  return kindFromFileName(path);
}

/** Files a directory walk picks up: the known names and *.onex.yaml. */
export function isManifestFileName(path: string): boolean {
  return kindFromFileName(path) !== undefined;
}

/** `isManifestFileName` for a bare name as readdir returns it (no basename to take). */
export function isManifestName(name: string): boolean {
  return kindFromName(name) !== undefined;
}
