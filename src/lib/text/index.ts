/**
 * Text from outside (a registry's error message or tag list, an artifact's annotations) made safe to print on a
 * terminal: every control character (C0, DEL, C1: ESC sequences, carriage returns, bells), the Unicode line and
 * paragraph separators and the bidirectional overrides (which reorder what the user sees) are replaced by a
 * visible escape such as `\x1b` or `\u202e`, so nothing supplied can move the cursor, recolour, retitle the
 * window, hide text or forge a line of output. Printable text, non-ASCII letters included, is unchanged.
 */

// C0 (except tab and, on request, newline), DEL, C1, U+2028/2029 line/paragraph separators, bidi embeddings,
// overrides and isolates (U+202A-U+202E, U+2066-U+2069), U+200E/U+200F marks, U+061C (Arabic letter mark).
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export interface SanitizeOptions {
  /** Keep `\n` (multi-line text such as a document); by default it is escaped too (one-line messages). */
  newlines?: boolean;
}

function escape(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every character that could drive a terminal replaced by a visible escape. */
export function sanitizeForTerminal(text: string, options: SanitizeOptions = {}): string {
  return text.replace(options.newlines ? UNSAFE_KEEP_NEWLINES : UNSAFE, escape);
}
