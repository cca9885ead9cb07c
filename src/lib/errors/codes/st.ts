import type { ErrorCodeSpec } from '../types.js';

/** Security: keys, signatures, trust policy. All exit with the family's SECURITY code (6); the code says which check failed. */
export const ST_CODES: readonly ErrorCodeSpec[] = [
  { code: 'ST001', summary: 'No signatures found for the artifact (no `.sig` attachment, no bundle referrer).' },
  { code: 'ST002', summary: 'A signature was found but does not verify with any of the given keys or certificates.' },
  {
    code: 'ST003',
    summary: 'A signature verifies but names another digest than the artifact (the artifact was changed or swapped).',
  },
  {
    code: 'ST004',
    summary: 'A signature verifies but its docker-reference does not match the expected identity (--identity).',
  },
  { code: 'ST005', summary: 'A signature payload, signature manifest or bundle is malformed or too large.' },
  {
    code: 'ST006',
    summary: 'Unsupported signature, key or manifest format (key type, KMS key source, schema-1 manifest, ...).',
  },
  { code: 'ST007', summary: 'The private key cannot be decrypted: wrong password or corrupted key file.' },
  { code: 'ST008', summary: 'A key file (private or public) cannot be parsed.' },
  {
    code: 'ST009',
    summary: 'The trust policy refuses the artifact: no trust rule matches it, or no trusted key signed it.',
  },
  { code: 'ST010', summary: 'A keyless certificate does not chain to the trusted roots or names another identity.' },
  { code: 'ST011', summary: 'A transparency-log entry (Rekor SET) or timestamp does not verify.' },
  { code: 'ST012', summary: 'The trust policy requires an SBOM and none is attached to the artifact.' },
  {
    code: 'ST013',
    summary: 'The artifact is quarantined: it failed verification before (see `aionctl quarantine ls`).',
  },
  { code: 'ST014', summary: 'An SBOM document is not SPDX or CycloneDX JSON.' },
  {
    code: 'ST015',
    summary: 'A signature verifies but its payload lacks an annotation required with `verify -a key=value`.',
  },
  {
    code: 'ST020',
    summary:
      'A configuration file is not safe to trust: owned by another user (not you or root) or writable by group/others (like git safe.directory).',
  },
  {
    code: 'ST021',
    summary:
      'A signature does not name the repository it was made for (a bundle without an identity binding) and the trust rule does not set allowUnboundBundles.',
  },
  { code: 'ST022', summary: 'An RSA key is shorter than 2048 bits.' },
  {
    code: 'ST023',
    summary:
      'The verified-digest cache directory or its key is not private (owned by another user or group/other accessible).',
  },
  {
    code: 'ST024',
    summary:
      'An attached SBOM (or referrer) is not usable: not SPDX/CycloneDX JSON, too large, or not signed by a key of the trust rule.',
  },
];
