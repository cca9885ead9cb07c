// The flags every registry command shares (plain data, see spec.ts) and turning them into connection options.
import type { ConnectOptions } from '../oci/registry/index.js';
import type { FlagSpec } from './spec.js';

export const registryFlagSpecs = {
  'plain-http': {
    type: 'boolean',
    description: 'Talk plain HTTP (no TLS) to the registry. Default for localhost, 127.0.0.1 and [::1].',
    helpGroup: 'REGISTRY',
  },
  insecure: {
    type: 'boolean',
    description: 'Use TLS but do NOT verify the registry certificate (unsafe: anyone on the path can tamper).',
    helpGroup: 'REGISTRY',
  },
  quiet: { type: 'boolean', char: 'q', description: 'No progress output, only the result.', helpGroup: 'REGISTRY' },
} satisfies Record<string, FlagSpec>;

export interface RegistryFlagValues {
  'plain-http'?: boolean;
  insecure?: boolean;
}

export const INSECURE_WARNING =
  'TLS certificate verification is OFF (--insecure): anyone between you and the registry can read and alter what is transferred';

export function connectOptions(
  flags: RegistryFlagValues,
  warn: (message: string) => void,
  extra: ConnectOptions = {},
): ConnectOptions {
  if (flags.insecure) warn(INSECURE_WARNING);
  return { insecure: flags.insecure === true, onWarning: (m) => warn(`registry says: ${m}`), ...extra };
}
