/** Where things appear inside the sandbox. */
export const PACKAGE_GUEST = '/pkg';
export const SCRATCH_GUEST = '/scratch';
/** A host's scratch root; each run gets a fresh directory below it, preopened as SCRATCH_GUEST. */
export const SCRATCH_ROOT_GUEST = '/aionctl/scratch';
