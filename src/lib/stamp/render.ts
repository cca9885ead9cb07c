import { AionError } from '../errors/index.js';
import { type Fields, matchValue, renderField, renderKey } from './fields.js';
import type { CommentStyle } from './styles.js';

/**
 * The block text in the file's own line ending, ending with one. Refuses (MD005) a value that would end the
 * comment early: `-->` in Markdown/HTML, any `--` in XML, `*∕` in CSS.
 */
export function renderBlock(
  fields: Fields,
  style: CommentStyle,
  eol: string,
  where: { file: string; line: number },
): string {
  const lines: string[] = [style.opener];
  let i = 0;
  for (const [key, value] of fields) {
    i++;
    const text = renderField(key, value);
    for (const bad of style.forbidden) {
      const at = text.indexOf(bad);
      if (at >= 0) {
        throw new AionError('MD005', `field "${key}" contains "${bad}", which would end the ${style.id} comment`, {
          position: { file: where.file, line: where.line + i, col: at + 1 },
          hint: `change the value (or the file name) so it has no "${bad}"; the file was not changed`,
          details: { field: key, style: style.id },
        });
      }
    }
    lines.push(style.kind === 'line' ? `${style.prefix} ${text}` : text);
  }
  lines.push(style.closer);
  return lines.join(eol) + eol;
}

/**
 * Where the block `renderBlock` would write ends, when `text` already holds exactly that block at `pos`; -1 when
 * it does not (or when rendering would refuse a value: the caller then renders, to know what to write or why not).
 * Compares in place: a file that is already current costs no render.
 */
export function matchRendered(text: string, pos: number, fields: Fields, style: CommentStyle, eol: string): number {
  let at = pos;
  const expect = (part: string): boolean => {
    if (!text.startsWith(part, at)) return false;
    at += part.length;
    return true;
  };
  if (!expect(style.opener) || !expect(eol)) return -1;
  const fieldsStart = at;
  const linePrefix = style.kind === 'line' ? `${style.prefix} ` : '';
  for (const [key, value] of fields) {
    if ((linePrefix && !expect(linePrefix)) || !expect(renderKey(key)) || !expect(': ')) return -1;
    at = matchValue(text, at, key, value);
    if (at < 0 || !expect(eol)) return -1;
  }
  // renderBlock refuses these per line; the lines are in the text, so one search over them says the same.
  for (const bad of style.forbidden) {
    const found = text.indexOf(bad, fieldsStart);
    if (found >= 0 && found < at) return -1;
  }
  if (!expect(style.closer) || !expect(eol)) return -1;
  return at;
}
