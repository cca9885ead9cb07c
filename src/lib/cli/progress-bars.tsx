/** The ink view behind TTY progress: one bar per blob in flight. Loaded lazily by progress.ts. */
import { Box, render, Text } from 'ink';
import type { CopyEvent } from '../oci/index.js';
import { formatBytes, shortDigest } from './progress.js';

interface BlobState {
  digest: string;
  size: number;
  done: number;
  state: 'active' | 'done' | 'skipped';
}

function Bar({ blob, verb }: { blob: BlobState; verb: string }) {
  const width = 30;
  const ratio = blob.size > 0 ? Math.min(1, blob.done / blob.size) : 1;
  const filled = Math.round(ratio * width);
  const label = blob.state === 'skipped' ? 'exists' : blob.state === 'done' ? verb : `${Math.floor(ratio * 100)}%`;
  return (
    <Box>
      <Text>{shortDigest(blob.digest)} </Text>
      <Text
        color={blob.state === 'active' ? 'cyan' : 'green'}
      >{`[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`}</Text>
      <Text>{` ${formatBytes(blob.done)}/${formatBytes(blob.size)} ${label}`}</Text>
    </Box>
  );
}

function View({ blobs, verb }: { blobs: BlobState[]; verb: string }) {
  return (
    <Box flexDirection="column">
      {blobs.map((b) => (
        <Bar key={b.digest} blob={b} verb={verb} />
      ))}
    </Box>
  );
}

export function startBars(stream: NodeJS.WriteStream, verb: string) {
  const blobs = new Map<string, BlobState>();
  const instance = render(<View blobs={[]} verb={verb} />, { stdout: stream, patchConsole: false, exitOnCtrlC: false });
  let scheduled: NodeJS.Timeout | undefined;
  const draw = () => {
    scheduled = undefined;
    instance.rerender(<View blobs={[...blobs.values()]} verb={verb} />);
  };
  return {
    update(event: CopyEvent) {
      if (!('descriptor' in event) || event.kind === 'manifest' || event.kind === 'referrer') return;
      const d = event.descriptor;
      const blob = blobs.get(d.digest) ?? { digest: d.digest, size: d.size, done: 0, state: 'active' as const };
      if (event.kind === 'blob-progress') blob.done = event.transferred;
      if (event.kind === 'blob-done') {
        blob.done = d.size;
        blob.state = 'done';
      }
      if (event.kind === 'blob-skip') {
        blob.done = d.size;
        blob.state = 'skipped';
      }
      blobs.set(d.digest, blob);
      // Redraw at most every 100 ms: progress events arrive per chunk.
      scheduled ??= setTimeout(draw, 100);
    },
    async stop() {
      if (scheduled) clearTimeout(scheduled);
      draw();
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
