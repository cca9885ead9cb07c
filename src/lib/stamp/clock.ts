import { AionError } from '../errors/index.js';

/**
 * Now as `YYYY-MM-DDTHH:MM:SS.sssZ`. `SOURCE_DATE_EPOCH` (seconds since 1970, reproducible-builds.org) fixes the
 * clock so runs and tests are reproducible.
 */
export function stampNow(env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) {
      throw new AionError('CI004', `SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${epoch}"`, {
        hint: 'unset it or set it to e.g. 1700000000',
      });
    }
    return new Date(Number(epoch) * 1000).toISOString();
  }
  return new Date(now()).toISOString();
}
