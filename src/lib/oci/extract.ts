/**
 * Writes the titled layers of a package artifact to a directory (what `pull -o` does). Hostile titles are
 * refused before anything is written: absolute paths, `..`, any segment starting with `.` (hidden files such as
 * `.git/hooks/*` or `.aionctl.yaml`; `pack` never produces them), backslashes, control characters, a title that
 * is also a directory of another title, and any path that would pass through a symlink. Existing files are not
 * replaced unless `force` (FS013), and never a directory. All files are first downloaded (digest-verified while streaming) to temp files
 * next to their destination and only renamed into place once every one of them verified, so a failure leaves the
 * directory as it was.
 */
import { chmod, lstat, mkdir, open, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AionError, fsError } from '../errors/index.js';
import { ensureDir, tempPathFor } from '../fs/index.js';
import { syncFile } from './layout.js';
import { ANNOTATIONS } from './media-types.js';
import { type Descriptor, MEDIA_TYPES, type ReadTarget } from './types.js';

export interface ExtractedFile {
  path: string;
  digest: string;
  size: number;
  mode: number;
}

export interface ExtractResult {
  descriptor: Descriptor;
  files: ExtractedFile[];
}

/** Splits a layer title into safe path segments or throws FS007. Pure. */
export function safeTitleSegments(title: string): string[] {
  const refuse = (why: string) =>
    new AionError('FS007', `refusing layer title ${JSON.stringify(title)}: ${why}`, {
      hint: 'the artifact is malformed or hostile; nothing was written',
    });
  if (title === '') throw refuse('empty');
  if (/[\\\u0000-\u001f\u007f]/.test(title)) throw refuse('backslash or control character');
  if (title.startsWith('/') || /^[a-zA-Z]:/.test(title)) throw refuse('absolute path');
  const segments = title.split('/');
  if (segments.some((s) => s === '..')) throw refuse('".." escapes the output directory');
  if (segments.some((s) => s === '' || s === '.')) throw refuse('empty or "." path segment');
  if (segments.some((s) => s.startsWith('.'))) throw refuse('hidden path (a segment starts with ".")');
  return segments;
}

function fileMode(descriptor: Descriptor): number {
  return descriptor.annotations?.[ANNOTATIONS.fileMode] === '0755' ? 0o755 : 0o644;
}

/** Refuses when any existing component between `root` and `path` (inclusive) is a symlink. */
async function assertNoSymlinks(root: string, segments: string[]): Promise<void> {
  let current = root;
  for (const segment of segments) {
    current = join(current, segment);
    try {
      if ((await lstat(current)).isSymbolicLink()) {
        throw new AionError('FS007', `refusing to write through symlink ${current}`, {
          hint: 'remove the symlink or extract into an empty directory',
        });
      }
    } catch (err) {
      if (err instanceof AionError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(err, current);
    }
  }
}

export interface ExtractOptions {
  /** Replace existing regular files (never directories). */
  force?: boolean;
}

/** Stat that says "absent" instead of throwing ENOENT/ENOTDIR. */
async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw fsError(err, path);
  }
}

/** Creates the missing directories of `segments` under `root` one by one, recording each one made. */
async function makeDirs(root: string, segments: string[], created: string[]): Promise<void> {
  let current = root;
  for (const segment of segments) {
    current = join(current, segment);
    try {
      await mkdir(current, { mode: 0o755 });
      created.push(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function extractPackage(
  target: ReadTarget,
  reference: string | Descriptor,
  outDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const { descriptor, bytes } = await target.fetchManifest(reference);
  if (descriptor.mediaType !== MEDIA_TYPES.imageManifest) {
    throw new AionError('RG011', `${descriptor.digest} is a ${descriptor.mediaType}, not a package manifest`, {
      hint: 'extract an image manifest (aionctl pack produces one)',
    });
  }
  const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as { layers?: Descriptor[] };
  const titled = (manifest.layers ?? []).filter((l) => l.annotations?.[ANNOTATIONS.title] !== undefined);
  const plan = titled.map((layer) => ({ layer, segments: safeTitleSegments(layer.annotations![ANNOTATIONS.title]!) }));
  const seen = new Set<string>();
  for (const { segments } of plan) {
    const key = segments.join('/');
    if (seen.has(key))
      throw new AionError('RG011', `two layers are titled ${key}`, { hint: 'the artifact is malformed' });
    seen.add(key);
  }
  // `a` and `a/b`: one title would have to be a file and a directory at once.
  for (const key of seen) {
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (seen.has(dir))
        throw new AionError('FS007', `refusing layer title ${JSON.stringify(key)}: ${dir} is also a file title`, {
          hint: 'the artifact is malformed or hostile; nothing was written',
        });
    }
  }

  // Everything that can refuse is checked before the first write.
  const existing = await lstatOrNull(outDir);
  if (existing && !existing.isDirectory())
    throw new AionError('FS013', `${outDir} exists and is not a directory`, { hint: 'choose another -o directory' });
  if (existing) {
    const root = await realpath(outDir).catch((err) => {
      throw fsError(err, outDir);
    });
    for (const { segments } of plan) {
      await assertNoSymlinks(root, segments);
      for (let i = 1; i < segments.length; i++) {
        const st = await lstatOrNull(join(root, ...segments.slice(0, i)));
        if (st && !st.isDirectory())
          throw new AionError('FS013', `${join(outDir, ...segments.slice(0, i))} exists and is not a directory`, {
            hint: 'remove it or extract into an empty directory',
          });
      }
      const st = await lstatOrNull(join(root, ...segments));
      if (st && (!st.isFile() || !options.force))
        throw new AionError('FS013', `${join(outDir, ...segments)} already exists`, {
          hint: st.isFile() ? 'pass --force to replace it, or extract into an empty directory' : 'remove it first',
        });
    }
  }

  const createdDirs: string[] = [];
  const staged: { tmp: string; final: string }[] = [];
  const files: ExtractedFile[] = [];
  try {
    if (!existing) {
      await ensureDir(dirname(resolve(outDir)));
      await mkdir(outDir, { mode: 0o755 }).then(
        () => createdDirs.push(outDir),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        },
      );
    }
    const root = await realpath(outDir);
    for (const { layer, segments } of plan) {
      const final = join(root, ...segments);
      await assertNoSymlinks(root, segments.slice(0, -1));
      await makeDirs(root, segments.slice(0, -1), createdDirs);
      await assertNoSymlinks(root, segments.slice(0, -1));
      const tmp = tempPathFor(final);
      staged.push({ tmp, final });
      const mode = fileMode(layer);
      const blob = await target.fetchBlob(layer);
      const handle = await open(tmp, 'wx', 0o600).catch((err) => {
        blob.destroy();
        throw err;
      });
      await pipeline(blob, handle.createWriteStream());
      await syncFile(tmp);
      await chmod(tmp, mode);
      files.push({ path: segments.join('/'), digest: layer.digest, size: layer.size, mode });
    }
    for (const { tmp, final } of staged) await rename(tmp, final);
  } catch (err) {
    await Promise.all(staged.map(({ tmp }) => rm(tmp, { force: true }).catch(() => undefined)));
    // Directories this call made are removed again (deepest first; rmdir leaves any that are not empty).
    for (const dir of createdDirs.reverse()) await rmdir(dir).catch(() => undefined);
    if (err instanceof AionError) throw err;
    throw fsError(err, outDir, 'write');
  }
  return { descriptor, files };
}
