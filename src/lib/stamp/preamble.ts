import type { FileType } from './styles.js';
import { lineAt } from './text.js';

// PEP 263 cookie, plus Ruby's magic comments, which share the "first lines" rule.
const CODING = /^[ \t\f]*#.*?(?:coding[:=]|frozen_string_literal:|warn_indent:|-\*-)/;
// Dockerfile parser directives: Docker stops looking for them at the first comment, so they must stay above us.
const DOCKER_DIRECTIVE = /^#[ \t]*(?:syntax|escape|check)[ \t]*=/i;

/**
 * Offset where the preamble ends: the lines that must stay first (shebang, coding cookie, Dockerfile directives,
 * `<?xml ?>`, `<!doctype>`, `<?php`, Markdown front matter). The block goes right after it.
 */
export function preambleEnd(text: string, type: FileType): number {
  let pos = 0;
  let lineIndex = 0;
  const take = (next: number) => {
    pos = next;
    lineIndex++;
  };
  let line = lineAt(text, pos);
  if (line && text.startsWith('#!', line.start)) {
    take(line.next);
    line = lineAt(text, pos);
  }
  for (const kind of type.preamble) {
    if (!line) break;
    const content = text.slice(line.start, line.end);
    if (kind === 'coding') {
      while (line && lineIndex < 2 && CODING.test(text.slice(line.start, line.end))) {
        take(line.next);
        line = lineAt(text, pos);
      }
    } else if (kind === 'docker') {
      while (line && DOCKER_DIRECTIVE.test(text.slice(line.start, line.end))) {
        take(line.next);
        line = lineAt(text, pos);
      }
    } else if (kind === 'php') {
      if (content.trim() === '<?php') take(line.next);
    } else if (kind === 'frontmatter') {
      if (lineIndex === 0 && content.trimEnd() === '---') {
        for (let l = lineAt(text, line.next); l; l = lineAt(text, l.next)) {
          const c = text.slice(l.start, l.end).trimEnd();
          if (c === '---' || c === '...') {
            take(l.next);
            break;
          }
          if (l.next === l.end) break;
        }
      }
    } else if (kind === 'xml') {
      pos = xmlPrologEnd(text, pos);
    }
    line = lineAt(text, pos);
  }
  return pos;
}

/** Past `<?xml ...?>` and `<!DOCTYPE ...>` (with an internal subset), each to the end of its line. */
function xmlPrologEnd(text: string, start: number): number {
  let pos = start;
  if (text.startsWith('<?xml', pos)) {
    const close = text.indexOf('?>', pos);
    if (close < 0) return start;
    pos = endOfLine(text, close + 2);
  }
  // Blank lines between the declaration and the doctype belong to the prolog too.
  let probe = pos;
  for (let l = lineAt(text, probe); l && l.start === l.end && l.next !== l.end; l = lineAt(text, probe)) probe = l.next;
  if (text.slice(probe, probe + 9).toLowerCase() === '<!doctype') {
    let depth = 0;
    for (let i = probe + 9; i < text.length; i++) {
      const c = text[i];
      if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (c === '>' && depth <= 0) return endOfLine(text, i + 1);
    }
  }
  return pos;
}

function endOfLine(text: string, pos: number): number {
  const line = lineAt(text, pos);
  return line ? line.next : pos;
}
