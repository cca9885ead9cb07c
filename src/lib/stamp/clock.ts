import { type Env, sourceDateEpoch } from '../env/index.js';

/**
 * Now as `YYYY-MM-DDTHH:MM:SS.sssZ`. `SOURCE_DATE_EPOCH` (seconds since 1970, reproducible-builds.org, parsed by
 * the one shared `sourceDateEpoch`, as pack and sbom do) fixes the clock so runs and tests are reproducible.
 */
export function stampNow(env: Env, now: () => number = Date.now): string {
  return (sourceDateEpoch(env) ?? new Date(now())).toISOString();
}
