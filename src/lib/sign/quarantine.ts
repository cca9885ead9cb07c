/**
 * Quarantine: artifacts that failed verification or the trust policy. They never enter the usable store; a
 * record (reference, digest, error code and reason) is kept under `resolvePaths().data/quarantine` so
 * `aionctl quarantine ls` can show what was refused and why, and `quarantine rm` forgets it.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AionError } from '../errors/index.js';
import { ensureDir, readSmallFile, writeFileAtomic } from '../fs/index.js';

export interface QuarantineRecord {
  ref: string;
  digest: string;
  code: string;
  reason: string;
  at: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** A record is a few hundred bytes; a larger file is not ours and is not read whole. */
const MAX_RECORD_BYTES = 64 * 1024;

/** The record's fields as strings (a hand-edited or planted file cannot put objects into messages). */
function recordFrom(text: string, digest: string): QuarantineRecord {
  const raw = JSON.parse(text) as Record<string, unknown> | null;
  const field = (name: string) => (typeof raw?.[name] === 'string' ? (raw[name] as string).slice(0, 2048) : '');
  return { ref: field('ref'), digest, code: field('code') || 'ST013', reason: field('reason'), at: field('at') };
}

export function quarantineDir(dataDir: string): string {
  return join(dataDir, 'quarantine');
}

export async function addToQuarantine(dataDir: string, record: Omit<QuarantineRecord, 'at'>): Promise<void> {
  if (!DIGEST.test(record.digest)) return;
  const dir = quarantineDir(dataDir);
  await ensureDir(dir, 0o700);
  const full: QuarantineRecord = { ...record, at: new Date().toISOString() };
  await writeFileAtomic(join(dir, `${record.digest.slice(7)}.json`), `${JSON.stringify(full, null, 2)}\n`, {
    mode: 0o600,
  });
}

export async function listQuarantine(dataDir: string): Promise<QuarantineRecord[]> {
  const dir = quarantineDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: QuarantineRecord[] = [];
  for (const name of names.filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).sort()) {
    try {
      const text = await readSmallFile(join(dir, name), MAX_RECORD_BYTES);
      if (text !== undefined) out.push(recordFrom(text, `sha256:${name.slice(0, 64)}`));
    } catch {
      // a broken record is skipped, not fatal
    }
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : 1));
}

export async function isQuarantined(dataDir: string, digest: string): Promise<QuarantineRecord | undefined> {
  if (!DIGEST.test(digest)) return undefined;
  const path = join(quarantineDir(dataDir), `${digest.slice(7)}.json`);
  let text: string | undefined;
  try {
    text = await readSmallFile(path, MAX_RECORD_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable record: still quarantined (fail closed).
    return { ref: '', digest, code: 'ST013', reason: `unreadable quarantine record ${path}`, at: '' };
  }
  if (text === undefined)
    return { ref: '', digest, code: 'ST013', reason: `oversized quarantine record ${path}`, at: '' };
  try {
    return recordFrom(text, digest);
  } catch {
    return { ref: '', digest, code: 'ST013', reason: `broken quarantine record ${path}`, at: '' };
  }
}

/**
 * ST013 (exit 6) when `digest` is quarantined. Pull, install and run call this before using an artifact, even
 * with --insecure-skip-verify; only `aionctl quarantine rm` releases a digest (a later valid signature does not).
 */
export async function assertNotQuarantined(paths: { data: string }, digest: string): Promise<void> {
  const record = await isQuarantined(paths.data, digest);
  if (!record) return;
  throw new AionError(
    'ST013',
    `${digest} is quarantined${record.code && record.code !== 'ST013' ? ` (${record.code}: ${record.reason})` : ''}`,
    {
      hint: `inspect it with \`aionctl quarantine ls\`; release it with \`aionctl quarantine rm ${digest.slice(7, 19)}\``,
    },
  );
}

/** Removes the record of `digest` (a full sha256 digest or a unique hex prefix of at least 7 characters). */
export async function removeFromQuarantine(dataDir: string, digest: string): Promise<QuarantineRecord> {
  const wanted = digest.replace(/^sha256:/, '');
  if (!/^[a-f0-9]{7,64}$/.test(wanted))
    throw new AionError('CI001', `"${digest}" is not a digest`, { hint: 'see `aionctl quarantine ls`' });
  const matches = (await listQuarantine(dataDir)).filter((r) => r.digest.slice(7).startsWith(wanted));
  if (matches.length !== 1)
    throw new AionError('CI001', matches.length === 0 ? `${digest} is not quarantined` : `${digest} is ambiguous`, {
      hint: 'see `aionctl quarantine ls`',
    });
  const record = matches[0] as QuarantineRecord;
  await rm(join(quarantineDir(dataDir), `${record.digest.slice(7)}.json`), { force: true });
  return record;
}
