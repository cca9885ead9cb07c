import { EXIT } from '../exit-codes.js';
import type { ErrorCodeSpec } from '../types.js';

// RG001-RG099: references and the registry client (branch oci-registry). RG100+: local store, OCI layouts, pack and copy.
export const RG_CODES: readonly ErrorCodeSpec[] = [
  { code: 'RG001', summary: 'An artifact reference is malformed (host, repository, tag or digest).' },
  { code: 'RG002', summary: 'A digest is malformed or uses an algorithm other than sha256.' },
  {
    code: 'RG003',
    summary: 'The manifest or tag does not exist in the repository (MANIFEST_UNKNOWN).',
    notFound: true,
  },
  { code: 'RG004', summary: 'The repository does not exist on the registry (NAME_UNKNOWN).', notFound: true },
  { code: 'RG005', summary: 'A blob does not exist in the repository (BLOB_UNKNOWN).' },
  { code: 'RG006', summary: 'The registry wants credentials, or rejected the ones given (UNAUTHORIZED, 401).' },
  { code: 'RG007', summary: 'The credentials are valid but lack permission for this action (DENIED, 403).' },
  { code: 'RG008', summary: 'The registry kept rate-limiting the requests (TOOMANYREQUESTS, 429) after retries.' },
  {
    code: 'RG009',
    summary: 'Content from a registry or layout does not match its digest or size (corrupt or tampered).',
    // A digest mismatch is a security failure, not a missing thing: scripts must be able to tell them apart.
    exit: EXIT.SECURITY,
  },
  { code: 'RG010', summary: 'A manifest is larger than the 4 MiB limit.' },
  { code: 'RG011', summary: 'A manifest is invalid or of a media type aionctl does not handle (MANIFEST_INVALID).' },
  {
    code: 'RG012',
    summary:
      'The registry refused a blob upload (BLOB_UPLOAD_INVALID, BLOB_UPLOAD_UNKNOWN, SIZE_INVALID, DIGEST_INVALID).',
  },
  { code: 'RG013', summary: 'The registry does not support this operation (UNSUPPORTED, 405).' },
  { code: 'RG014', summary: 'The registry kept failing with server errors (5xx) after retries.' },
  { code: 'RG015', summary: 'The registry answered with an unexpected status or a malformed response.' },
  { code: 'RG016', summary: 'The Docker credentials file (config.json) is unreadable or invalid.' },
  { code: 'RG017', summary: 'A docker-credential-* helper failed or is not installed.' },
  { code: 'RG018', summary: 'A manifest references blobs the registry does not have (MANIFEST_BLOB_UNKNOWN).' },
  { code: 'RG019', summary: 'The repository name is not valid on this registry (NAME_INVALID).' },
  // A reference the user typed without a tag is a usage error, not something the registry lacks.
  { code: 'RG020', summary: 'The reference needs a tag or digest for this command.', exit: EXIT.USAGE },
  // RG100-RG103 and RG107 were dropped before release in favour of the shared RG003/RG009/RG002/RG010/RG011.
  {
    code: 'RG104',
    summary: 'A directory is not a usable OCI image layout (bad oci-layout or index.json, unsupported version).',
  },
  { code: 'RG105', summary: 'A tag or repository name is invalid (OCI tag grammar, lowercase repository paths).' },
  {
    code: 'RG106',
    summary: 'The package directory cannot be packed (no longer emitted: pack reports the SC code of the problem).',
    // The package (an input) is at fault, not a registry or store: same exit as other unreadable input.
    exit: EXIT.INPUT,
  },
  { code: 'RG108', summary: 'The reference kind is not supported by this command or in this build.' },
  { code: 'RG030', summary: 'There is no OCI image layout at the oci: path given.' },
  { code: 'RG031', summary: 'The local store holds nothing under the name given.' },
  { code: 'RG032', summary: 'No SBOM is attached to the artifact (`sbom get`).' },
  {
    code: 'RG040',
    summary: 'A registry response is larger than its size cap (token, tag or referrer page, error body, config blob).',
  },
  { code: 'RG041', summary: 'A paginated registry list did not end (a `next` link loops, or over the page cap).' },
  { code: 'RG042', summary: 'A registry list (tags, referrers) is malformed or holds more entries than allowed.' },
  { code: 'RG043', summary: 'A blob upload failed and could not be resumed or restarted within the retry budget.' },
];
