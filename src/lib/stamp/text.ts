/** Line scanning that keeps each line's own ending (LF, CRLF or a lone CR), so bytes are never rewritten. */

export interface Line {
  /** Offset of the first character. */
  start: number;
  /** Offset just past the content (before the line ending). */
  end: number;
  /** Offset of the next line (past the line ending); equals `end` on the last line without an ending. */
  next: number;
}

/** The line starting at `pos`, or undefined at the end of the text. */
export function lineAt(text: string, pos: number): Line | undefined {
  if (pos >= text.length) return undefined;
  let i = pos;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 10) return { start: pos, end: i, next: i + 1 };
    if (c === 13) return { start: pos, end: i, next: text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1 };
    i++;
  }
  return { start: pos, end: i, next: i };
}

/** The file's first line ending; LF when it has none. */
export function detectEol(text: string): '\n' | '\r\n' | '\r' {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) return '\n';
    if (c === 13) return text.charCodeAt(i + 1) === 10 ? '\r\n' : '\r';
  }
  return '\n';
}

export function isBlank(text: string, line: Line): boolean {
  for (let i = line.start; i < line.end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 12 && c !== 11) return false;
  }
  return true;
}

/** 1-based line number of an offset (counts LF, CRLF and lone CR as one ending each). */
export function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) line++;
  }
  return line;
}

/** Offset of the first non-blank line at or after `pos` (blank lines skipped). */
export function skipBlankLines(text: string, pos: number): number {
  let at = pos;
  for (let line = lineAt(text, at); line && isBlank(text, line); line = lineAt(text, at)) {
    if (line.next === line.end) return text.length;
    at = line.next;
  }
  return at;
}
