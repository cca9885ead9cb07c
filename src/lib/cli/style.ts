/** ANSI styling that turns itself off for NO_COLOR, TERM=dumb and non-TTY streams (FORCE_COLOR forces it on). */
export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type StyleName = keyof typeof CODES;

export interface Styler {
  (style: StyleName, text: string): string;
  readonly enabled: boolean;
}

export function createStyler(enabled: boolean): Styler {
  const fn = ((style: StyleName, text: string) => {
    if (!enabled) return text;
    const [open, close] = CODES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }) as Styler;
  Object.defineProperty(fn, 'enabled', { value: enabled });
  return fn;
}
