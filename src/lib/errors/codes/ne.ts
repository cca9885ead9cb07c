import type { ErrorCodeSpec } from '../types.js';

export const NE_CODES: readonly ErrorCodeSpec[] = [
  {
    code: 'NE001',
    summary: 'Could not connect to the host (refused, unreachable, DNS) or the connection kept resetting.',
  },
  { code: 'NE002', summary: 'TLS failed (untrusted or mismatched certificate, or the server speaks plain HTTP).' },
  { code: 'NE003', summary: 'A request timed out.' },
  { code: 'NE004', summary: 'A redirect could not be followed (too many, or to an unsupported scheme).' },
  { code: 'NE005', summary: 'The bearer token service failed or returned no usable token.' },
  { code: 'NE006', summary: 'A download was interrupted and could not be resumed.' },
  {
    code: 'NE010',
    summary: 'A registry named a token service aionctl refuses (plain HTTP for an HTTPS registry, or not HTTP at all).',
  },
  {
    code: 'NE020',
    summary: 'An --offline install needs something the local store does not have (the message names it).',
  },
];
