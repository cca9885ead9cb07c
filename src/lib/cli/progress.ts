/**
 * Transfer progress for push/pull: per-blob bars on a TTY (ink, imported only when a bar is actually drawn,
 * because importing ink costs ~300 ms), one plain line per finished blob elsewhere (CI logs), nothing when quiet.
 */
import type { CopyEvent } from '../oci/index.js';

export interface ProgressReporter {
  onProgress(event: CopyEvent): void;
  /** Stops drawing; call before printing the result. */
  finish(): Promise<void>;
}

export interface ProgressOptions {
  /** --quiet or --json: report nothing. */
  silent: boolean;
  stream?: NodeJS.WriteStream;
  /** Verb for lines: `pushed`, `pulled`. */
  verb: string;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

export const shortDigest = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/** `finish()` may be called more than once (after success and again in a finally). */
export function createProgress(options: ProgressOptions): ProgressReporter {
  const reporter = createReporter(options);
  let finished: Promise<void> | undefined;
  return { onProgress: (event) => reporter.onProgress(event), finish: () => (finished ??= reporter.finish()) };
}

function createReporter(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.silent) return { onProgress: () => undefined, finish: async () => undefined };
  // A TTY without a size (a bare pty, `script`) cannot lay out bars: plain lines there too.
  if (stream.isTTY && (stream.columns ?? 0) >= 40 && !process.env.CI && process.env.TERM !== 'dumb') {
    return createTtyProgress(stream, options.verb);
  }
  return {
    onProgress(event) {
      if (event.kind === 'blob-done') {
        stream.write(`${options.verb} ${shortDigest(event.descriptor.digest)} ${formatBytes(event.descriptor.size)}\n`);
      } else if (event.kind === 'blob-skip') {
        stream.write(`exists ${shortDigest(event.descriptor.digest)} ${formatBytes(event.descriptor.size)}\n`);
      }
    },
    finish: async () => undefined,
  };
}

/** Defers loading ink until the first blob starts; events before the module is ready are replayed. */
function createTtyProgress(stream: NodeJS.WriteStream, verb: string): ProgressReporter {
  type Bars = { update(event: CopyEvent): void; stop(): Promise<void> };
  let bars: Promise<Bars> | undefined;
  return {
    onProgress(event) {
      if (event.kind !== 'blob-start' && !bars) return;
      bars ??= import('./progress-bars.js').then((m) => m.startBars(stream, verb));
      void bars.then((b) => b.update(event));
    },
    async finish() {
      if (bars) await (await bars).stop();
    },
  };
}
