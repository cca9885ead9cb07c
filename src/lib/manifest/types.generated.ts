// Generated from manifests/*.schema.json by `npm run gen:types`. Do not edit: change the schema instead.

/** An agent package manifest (aip.yaml), apiVersion aionos/v1: what the package is, how it runs, what it may touch. */
export type AgentPackage = {
  /** Manifest API version. Always aionos/v1. */
  apiVersion: "aionos/v1";
  /** Manifest kind. Always AgentPackage. */
  kind: "AgentPackage";
  metadata: Metadata;
  runtime: Runtime;
  permissions?: Permissions;
  entrypoints?: Entrypoints;
  /** Intents (see intents.yml) this package can serve. */
  intents?: string[];
  policies?: PackagePolicies;
  /** Other packages this one needs: package name to a semver range (e.g. "^1.2.0"). */
  dependencies?: {
    [key: string]: string;
  };
};

/** Identity of the package. */
export type Metadata = {
  /** Package name: lowercase letters and digits separated by '.', '_' or '-'. Becomes the repository name when packed. */
  name: string;
  /** Semantic version (quote it in YAML: "1.3.0"). */
  version: string;
  /** One line on what the package does. */
  description?: string;
  /** Authors or owning teams. */
  authors?: string[];
  /** SPDX license expression, e.g. Apache-2.0. */
  license?: string;
  /** Where the package's signatures live (informational; verification uses the trust policy). */
  signatures?: {
    /** Cosign signature location. */
    cosign?: string;
    [key: string]: string | undefined;
  };
  /** Where the SBOM lives, e.g. oci://registry/repo:tag. */
  sbom?: string;
};

/** A Kubernetes quantity: 0.5, 500m, 256Mi, 1Gi, 2G. */
export type Quantity = string;

/** GPU needs of the package. */
export type Gpu = {
  /** Refuse to run without a matching GPU. */
  required?: boolean;
  /** GPU vendor the package is built for (none: CPU only). */
  vendor?: "nvidia" | "amd" | "intel" | "none";
  /** Number of GPUs. */
  count?: number;
  /** GPU memory needed per device, e.g. 16Gi. */
  memory?: Quantity;
};

/** Resource limits enforced at run time. */
export type Resources = {
  /** CPU cores (0.5 or 500m). */
  cpu?: Quantity;
  /** Memory limit (256Mi). */
  memory?: Quantity;
  gpu?: Gpu;
};

/** How the package runs: a WASM (WASI) module or a sandboxed subprocess. */
export type Runtime = {
  /** wasm (default, sandboxed by construction) or subprocess. */
  type: "wasm" | "subprocess";
  /** The module is a WASI command (reads stdin, writes stdout). */
  wasi?: boolean;
  /** Path of the .wasm module, relative to the package root. Optional: a wasm package without it uses module.wasm (validate warns when the file is absent; pack and run refuse such a package). */
  module?: string;
  /** argv of the subprocess, run from the package root. */
  command?: string[];
  resources?: Resources;
};

/** What the package may touch. Everything is denied unless granted here. */
export type Permissions = {
  /** File system access. */
  filesystem?: "deny" | "read-only" | "read-write";
  /** Paths (relative to the working directory) the filesystem permission applies to. */
  paths?: string[];
  /** Network access. */
  network?: "deny" | "allow";
  /** With network: allow, the only hosts (host or host:port, *.example.com) that may be reached. */
  hosts?: string[];
  /** Environment secrets passed in; a trailing ? marks an optional one. */
  secrets?: string[];
};

/** How callers talk to the package. */
export type Entrypoints = {
  grpc?: {
    /** 0: any free port. */
    port?: number;
  };
  /** JSON Schemas of the JSON input and output, relative to the package root. */
  schema?: {
    /** Input JSON Schema file. */
    input?: string;
    /** Output JSON Schema file. */
    output?: string;
  };
};

/** Execution policies. */
export type PackagePolicies = {
  /** Wall-clock limit of one run. */
  timeout_ms?: number;
  /** Retries after a failed run. */
  retries?: number;
};

/** intents.yml: each intent and how the router may serve it. */
export type Intents = {
  [key: string]: Intent;
};

/** A route: local, api, hybrid... */
export type Route = string;

export type Intent = {
  /** Route used by default; auto lets the router choose among candidates. */
  default_route: Route;
  /** Routes the router may pick. */
  candidates: Route[];
  /** Whether data may leave the machine. */
  privacy: "allow-api" | "local-only" | "hybrid-ok";
  /** Model tiers (models.yml) this intent may use. */
  tiers_allowed: string[];
  /** The intent uses the vector store. */
  vector_usage?: boolean;
};

/** policies.yml: budget, latency targets, privacy, provider allow/deny lists and routing fallbacks. */
export type Policies = {
  /** Spending limits per task in USD. */
  budget?: {
    /** Budget of a task unless it asks for another. */
    default_usd?: number;
    /** No task may spend more. */
    hard_cap_usd?: number;
  };
  /** Latency targets. */
  latency?: {
    /** 95th percentile latency target per route, in ms. Its keys are the known routes. */
    p95_ms?: {
      [key: string]: number;
    };
  };
  privacy?: {
    /** Intents whose data never leaves the machine: they may use local tiers only. */
    local_only_intents?: string[];
  };
  /** Model providers (the part before ':' in models.yml). */
  providers?: {
    /** Allowed providers. */
    allow?: string[];
    /** Denied providers (wins over allow). */
    deny?: string[];
  };
  routing?: {
    /** Routes tried in order when the chosen one fails. */
    fallback_order?: string[];
  };
};

/** models.yml: model tiers, each with local and/or cloud models as provider:model. */
export type Models = {
  /** Tiers by name (tier0, tier1...). */
  tiers: {
    [key: string]: Tier;
  };
};

/** provider:model, e.g. ollama:qwen2.5. */
export type ModelRef = string;

export type Tier = {
  /** Models served on this machine. */
  local?: ModelRef[];
  /** Models served by a cloud provider. */
  cloud?: ModelRef[];
};

/** modules.yml: the agent packages the control plane may run. */
export type Modules = {
  /** Registered modules. */
  modules: Module[];
};

export type Module = {
  /** Package name. */
  name: string;
  /** OCI reference with a tag or digest: registry/repo:tag. */
  ref: string;
  /** Runtime type of the package. */
  runtime: "wasm" | "subprocess";
  /** Signature locations. */
  signatures?: string[];
  /** Wall-clock limit of one run. */
  timeout_ms?: number;
  limits?: {
    /** CPU cores (0.5 or 500m). */
    cpu?: string;
    /** Memory (256Mi). */
    memory?: string;
  };
};

/** ONEX node metadata (*.onex.yaml): the fields of the OmniNode metadata block written by `aionctl stamp`. */
export type OnexNodeMetadata = {
  /** Version of the metadata format (0.1.0). */
  metadata_version: SemVer;
  /** ONEX protocol version (1.1.0). */
  protocol_version: SemVer;
  /** Owning team. */
  owner: string;
  /** Copyright holder. */
  copyright: string;
  /** Schema version (1.1.0). */
  schema_version: SemVer;
  /** The file's name. */
  name: string;
  /** Version of the node. */
  version: SemVer;
  /** Stable identity (UUID v4), never changes. */
  uuid: string;
  /** Author. */
  author: string;
  /** When the node was first stamped. */
  created_at: Timestamp;
  /** When the sealed content last changed. */
  last_modified_at: Timestamp;
  /** One line on the node. */
  description: string;
  /** State contract URI. */
  state_contract: string;
  /** Lifecycle state. */
  lifecycle: "active" | "draft" | "deprecated" | "archived";
  /** SHA-256 seal of fields and body (64 lowercase hex). */
  hash: string;
  /** <type>@<file name>, e.g. python@hello.py. */
  entrypoint: string;
  /** Language hint, e.g. python>=3.11. */
  runtime_language_hint?: string;
  /** onex.stamped.<file stem>. */
  namespace: string;
  /** Node type (tool). */
  meta_type: string;
  [key: string]: unknown;
};

export type SemVer = string;

/** ISO 8601 (aionctl writes UTC with milliseconds and Z; older stampers wrote naive times). */
export type Timestamp = string;

/** aionctl configuration: the project file .aionctl.yaml and the user file config.yaml. Unknown keys are errors. */
export type AionctlConfig = {
  /** Defaults for `aionctl stamp`. */
  stamp?: {
    owner?: string;
    author?: string;
    copyright?: string;
    description?: string;
    version?: string;
    runtime_language_hint?: string;
    lifecycle?: "active" | "draft" | "deprecated" | "archived";
    state_contract?: string;
    meta_type?: string;
    /** Globs (gitignore-like, relative to the project root) never stamped or checked. */
    ignore?: string[];
  };
  /** Trust rules, first match wins. User rules come first and are authoritative; project rules only apply to names no user rule matches. */
  trust?: TrustRule[];
  /** User config only: whether trust rules of a project .aionctl.yaml are used for names no user rule matches (add, the default) or ignored. */
  projectTrust?: "add" | "ignore";
  /** Default registry repository prefix, e.g. localhost:5000/agents or oci:DIR. */
  registry?: string;
  /** Package name to a semver range or REPOSITORY@RANGE. */
  packages?: {
    [key: string]: string;
  };
  /** Settings of the background daemon. */
  daemon?: {
    idleTimeoutMs?: number;
    maxQueue?: number;
    cacheBytes?: number;
    workers?: number;
    recycleRuns?: number;
    recycleRssBytes?: number;
    recycleCheckEvery?: number;
    gpuRefreshMs?: number;
    moduleCacheBytes?: number;
  };
};

/** Which keys may sign artifacts whose name (REGISTRY/REPOSITORY, store name or oci:/abs/path) matches the glob. */
export type TrustRule = {
  /** Glob over REGISTRY/REPOSITORY. */
  match: string;
  /** Public key files (relative to the file that names them) or env://VAR. */
  keys: string[];
  /** Require an SPDX or CycloneDX SBOM signed by one of the keys. */
  requireSbom?: boolean;
  /** Accept Sigstore bundles that do not name the repository in their in-toto subject (cosign-made bundles). */
  allowUnboundBundles?: boolean;
};
