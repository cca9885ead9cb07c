import { AionError } from '../errors/index.js';
import { type Fields, renderField } from './fields.js';
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
