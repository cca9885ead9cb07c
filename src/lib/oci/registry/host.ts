/** Parsing the HOST argument of login/logout (`host[:port]`, a pasted `https://host/` is accepted too). */
import { AionError } from '../../errors/index.js';
import { parseReference, type RegistryReference } from '../reference.js';

export function parseRegistryHost(input: string, plainHttp = false): RegistryReference {
  const host = input
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/(v1|v2)?\/?$/, '');
  if (!host || host.includes('/')) {
    throw new AionError('RG001', `"${input}" is not a registry host`, {
      hint: 'give HOST[:PORT], e.g. ghcr.io or localhost:5000',
    });
  }
  if (!(host.includes('.') || host.includes(':') || host === 'localhost' || host.startsWith('['))) {
    throw new AionError('RG001', `"${input}" is not a registry host`, {
      hint: 'a registry host has a dot, a port or is localhost, e.g. ghcr.io or myhost:5000',
    });
  }
  // A placeholder repository lets the reference grammar validate the host (and normalise docker.io).
  const ref = parseReference(`${host}/x`, { plainHttp });
  if (ref.kind !== 'registry') throw new AionError('RG001', `"${input}" is not a registry host`);
  return ref;
}
