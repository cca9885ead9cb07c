/** Signing and verification: cosign-compatible keys, classic `.sig` signatures, Sigstore bundles, trust policy. */
export * from './attachment.js';
export * from './bundle.js';
export * from './encrypted-key.js';
export * from './identity.js';
export * from './key-source.js';
export * from './keyless.js';
export * from './keys.js';
export * from './payload.js';
export * from './verify-classic.js';
export * from './engine.js';
export * from './cli-support.js';
export * from './cache.js';
export * from './policy.js';
export * from './quarantine.js';
export * from './sbom.js';
export * from './verify-options.js';
