import type { ErrorCodeSpec } from '../types.js';

// RG001-RG099: registry client (branch oci-registry). RG100+: local store, OCI layouts, pack and copy.
export const RG_CODES: readonly ErrorCodeSpec[] = [
  { code: 'RG100', summary: 'A tag or digest is not in the local store or OCI layout.' },
  {
    code: 'RG101',
    summary: 'Content does not match its digest or size (corrupt download or store); nothing was stored.',
  },
  { code: 'RG102', summary: 'A digest is malformed or uses an algorithm aionctl does not support (only sha256).' },
  { code: 'RG103', summary: 'A manifest is larger than the 4 MiB limit.' },
  {
    code: 'RG104',
    summary: 'A directory is not a usable OCI image layout (bad oci-layout or index.json, unsupported version).',
  },
  { code: 'RG105', summary: 'A tag or repository name is invalid (OCI tag grammar, lowercase repository paths).' },
  { code: 'RG106', summary: 'The package directory cannot be packed (aip.yaml missing or invalid).' },
  { code: 'RG107', summary: 'A manifest is malformed or of a media type this operation does not handle.' },
  { code: 'RG108', summary: 'The reference kind is not supported by this command or in this build.' },
];
