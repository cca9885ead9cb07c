import { CI_CODES } from './codes/ci.js';
import { FS_CODES } from './codes/fs.js';
import { MD_CODES } from './codes/md.js';
import { SC_CODES } from './codes/sc.js';
import { RG_CODES } from './codes/rg.js';
import { ST_CODES } from './codes/st.js';
import { LC_CODES } from './codes/lc.js';
import { NE_CODES } from './codes/ne.js';
import { EX_CODES } from './codes/ex.js';
import type { ErrorCodeSpec, ErrorFamily } from './types.js';

/**
 * Every error code aionctl can emit, by family, one file per family in codes/. Add new codes at the end of their
 * family, never renumber or reuse one: scripts match on them. docs/errors.md is generated from this table
 * (`npm run docs:errors`) and a test fails when the two drift.
 */
export const CATALOG: Record<ErrorFamily, readonly ErrorCodeSpec[]> = {
  CI: CI_CODES,
  FS: FS_CODES,
  MD: MD_CODES,
  SC: SC_CODES,
  RG: RG_CODES,
  ST: ST_CODES,
  LC: LC_CODES,
  NE: NE_CODES,
  EX: EX_CODES,
};
