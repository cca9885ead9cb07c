/**
 * The process environment as a value: library code takes an `Env` parameter instead of reading `process.env`
 * (the daemon serves many clients, each with its own environment), and the few variables aionctl interprets
 * are parsed here once.
 */
import { AionError } from '../errors/index.js';

/** Environment variables, read-only. `process.env` is one; tests and the daemon pass their own. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `SOURCE_DATE_EPOCH` (whole seconds since 1970, reproducible-builds.org) as a Date; undefined when unset or
 * empty. Throws CI004 for anything else, so a typo never silently becomes "now" or 1970.
 */
export function sourceDateEpoch(env: Env): Date | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw)) {
    throw new AionError('CI001', `SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${raw}"`, {
      hint: 'unset it or set it to e.g. $(git log -1 --format=%ct)',
    });
  }
  return new Date(Number(raw) * 1000);
}

/**
 * `KEY=VALUE` strings (repeated `-a`/`--annotation` flags, env files) as a map; the first `=` splits, so values
 * may hold `=`. Throws CI001 naming `what` for an entry without a key.
 */
export function parseKeyValues(values: readonly string[] | undefined, what = 'entry'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new AionError('CI001', `${what} "${value}" is not KEY=VALUE`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}
