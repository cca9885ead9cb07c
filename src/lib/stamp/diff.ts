/**
 * A minimal unified diff (one hunk, 3 lines of context) for `stamp --diff`. Stamping only touches the top of a
 * file, so the changed region is small: common leading and trailing lines are cut off first and the rest is
 * diffed with a plain LCS table (bounded; a huge region falls back to remove-all/add-all).
 */
const CONTEXT = 3;
const MAX_CELLS = 4_000_000;

/** Lines as git sees them: only LF ends a line, so a CR stays part of the line (CRLF files apply cleanly). */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export function unifiedDiff(before: string, after: string, path: string): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const ops = diffLines(midA, midB);
  const start = Math.max(0, head - CONTEXT);
  const lead = a.slice(start, head).map((l) => ` ${l}`);
  const trail = a.slice(a.length - tail, a.length - tail + CONTEXT).map((l) => ` ${l}`);
  const body = [...lead, ...ops, ...trail];
  const countA = body.filter((l) => !l.startsWith('+')).length;
  const countB = body.filter((l) => !l.startsWith('-')).length;
  const show = (l: string) => (l.endsWith('\n') ? l.slice(0, -1) : `${l}\n\\ No newline at end of file`);
  return [
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -${countA ? start + 1 : start},${countA} +${countB ? start + 1 : start},${countB} @@`,
    ...body.map(show),
    '',
  ].join('\n');
}

function diffLines(a: string[], b: string[]): string[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)];
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(` ${a[i++]}`);
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`-${a[i++]}`);
    else out.push(`+${b[j++]}`);
  }
  return out;
}
