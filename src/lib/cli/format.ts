/** Small text-formatting helpers shared by command renderers. */

/** 1234 -> "1.2 kB" (SI units, as docker and oras print sizes). */
export function humanSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const u of ['kB', 'MB', 'GB', 'TB']) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Left-aligned columns separated by two spaces (the last column is not padded). */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  '));
}

/** The line pack and pull print when they moved a tag: `moved NAME:TAG from sha256:a... to sha256:b...`. */
export function tagMovedLine(ref: string, from: string, to: string): string {
  return `moved ${ref} from ${from} to ${to}`;
}
