/** The registry flags as oclif Flags (from their spec in connect.ts), for the command classes. */
import { registryFlagSpecs } from './connect.js';
import { oclifFlags } from './oclif-spec.js';

export const registryFlags = oclifFlags(registryFlagSpecs);
export { connectOptions, INSECURE_WARNING, type RegistryFlagValues } from './connect.js';
