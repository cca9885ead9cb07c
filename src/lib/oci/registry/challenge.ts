/**
 * Pure parsers for the HTTP headers the registry protocol leans on: `WWW-Authenticate` challenges (RFC 7235:
 * several challenges, quoted strings with escapes, commas inside quotes as in `scope="repo:a:pull,push"`),
 * `Link: <url>; rel="next"` (RFC 8288) and `Retry-After`.
 */

export interface Challenge {
  /** Lowercased: `basic`, `bearer`, ... */
  scheme: string;
  /** Parameter names lowercased. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const challenges: Challenge[] = [];
  let rest = header.trim();
  let current: Challenge | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const token = TOKEN.exec(rest)?.[0];
    if (!token) break;
    const after = rest.slice(token.length).trimStart();
    if (after.startsWith('=') && current && !after.startsWith('==')) {
      // name=value parameter of the current challenge
      let value: string;
      let remaining = after.slice(1).trimStart();
      if (remaining.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < remaining.length && remaining[i] !== '"') {
          if (remaining[i] === '\\' && i + 1 < remaining.length) i++;
          value += remaining[i];
          i++;
        }
        remaining = remaining.slice(i + 1);
      } else {
        // Lenient: some servers send unquoted URLs (`realm=https://x/t`), which the token grammar would cut.
        value = /^[^\s,]+/.exec(remaining)?.[0] ?? '';
        remaining = remaining.slice(value.length);
      }
      current.params[token.toLowerCase()] = value;
      rest = remaining;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
      rest = after;
      // token68 form (`Basic abc==`): skip it
      const t68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(rest);
      if (t68 && !rest.slice(t68[0].length).trimStart().startsWith('=')) rest = rest.slice(t68[0].length);
    }
  }
  return challenges;
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function parseNextLink(header: string | undefined, base: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2] ?? '')) return new URL(m[1] ?? '', base).toString();
  }
  return undefined;
}

/** Milliseconds to wait for a `Retry-After` (delta-seconds or HTTP date); undefined when absent or unparsable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
