// Module hooks thread of module-trace.ts: records each resolved module URL.
import { appendFileSync } from 'node:fs';

let file = '';

export function initialize(data: { file: string }): void {
  file = data.file;
}

type Resolve = (
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<{ url: string }>,
) => Promise<{ url: string }>;

export const resolve: Resolve = async (specifier, context, next) => {
  const result = await next(specifier, context);
  if (result.url.startsWith('file:')) appendFileSync(file, `${result.url}\n`);
  return result;
};
