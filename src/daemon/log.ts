import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * JSON-lines log, one object per line (`time`, `level`, `msg`, `cid` = correlation id, fields). Rotated by size:
 * at `maxBytes` the file becomes `<file>.1` (the previous `.1` is dropped), so the disk use stays ≤ 2 × maxBytes.
 * Fields are the caller's: never pass secrets, inputs or outputs.
 */
export class JsonLog {
  private stream: WriteStream | undefined;
  private size = 0;

  constructor(
    readonly file: string | undefined,
    private readonly maxBytes = 5 * 1024 * 1024,
    private readonly echo?: (line: string) => void,
  ) {
    if (file) this.open();
  }

  private open(): void {
    mkdirSync(dirname(this.file!), { recursive: true, mode: 0o700 });
    try {
      this.size = statSync(this.file!).size;
    } catch {
      this.size = 0;
    }
    this.stream = createWriteStream(this.file!, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => undefined);
  }

  write(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`;
    this.echo?.(line);
    if (!this.stream) return;
    if (this.size + line.length > this.maxBytes) this.rotate();
    this.size += Buffer.byteLength(line);
    this.stream.write(line);
  }

  private rotate(): void {
    this.stream?.end();
    try {
      renameSync(this.file!, `${this.file}.1`);
    } catch {
      // nothing to rotate
    }
    this.open();
    this.size = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(() => resolve()) : resolve()));
  }
}
