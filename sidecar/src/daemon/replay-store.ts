/**
 * Keeps the replay guard's marks (the newest generation and sequence accepted per sender and
 * path) across a restart. A MAC proves who sent a datagram, not when; the guard remembers what
 * it has seen, and a receiver that forgot it on restart accepted any earlier capture of the
 * sender's current generation, in order, for as long as the capture lasted (a recorded holder
 * kept "alive" for 24.7 s after it died).
 *
 * Written at most every `intervalMs` and only when a mark moved, and once more on stop. After a
 * crash the marks are at most `intervalMs` old: only a capture of that last interval could be
 * replayed, once, and only until the sender's next real datagram.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Timers } from '../clock.js';
import { ReplayGuard, type ReplayMark } from '../wire/replay.js';

/** Nodes × paths is small; anything bigger is not ours. */
const MAX_FILE_BYTES = 256 << 10;
const FORMAT = 1;

export interface ReplayStore {
  readonly guard: ReplayGuard;
  /** Why the marks could not be read; the guard then starts empty. */
  readonly warning: string | null;
  start(): void;
  /** Writes the marks a last time. */
  stop(): Promise<void>;
  /** Resolves when every write started so far has finished (for tests on a fake clock). */
  written(): Promise<void>;
}

export interface ReplayStoreOptions {
  readonly file: string;
  readonly timers: Pick<Timers, 'setInterval' | 'clearInterval'>;
  readonly intervalMs: number;
  /** Hears a failed write (the next one is tried on the next interval). */
  readonly onError?: (err: unknown) => void;
}

export async function openReplayStore(opts: ReplayStoreOptions): Promise<ReplayStore> {
  const read = await readMarks(opts.file);
  const guard = new ReplayGuard(read.marks);
  let written = guard.version;
  let handle: unknown = null;
  let writing: Promise<void> = Promise.resolve();

  const save = (): Promise<void> => {
    if (guard.version === written) return writing;
    const version = guard.version;
    writing = writing.then(async () => {
      try {
        await writeMarks(opts.file, guard.marks());
        written = version;
      } catch (err) {
        opts.onError?.(err);
      }
    });
    return writing;
  };

  return {
    guard,
    warning: read.warning,
    start() {
      handle ??= opts.timers.setInterval(() => void save(), opts.intervalMs);
    },
    async stop() {
      if (handle !== null) opts.timers.clearInterval(handle);
      handle = null;
      await save();
    },
    written: () => writing,
  };
}

async function readMarks(file: string): Promise<{ marks: [string, ReplayMark][]; warning: string | null }> {
  let text: string;
  try {
    const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return { marks: [], warning: `${file} is not a regular file under ${MAX_FILE_BYTES} bytes; replay marks start empty` };
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { marks: [], warning: null };
    return { marks: [], warning: `cannot read ${file} (${(err as Error).message}); replay marks start empty` };
  }
  try {
    const doc = JSON.parse(text) as { format?: unknown; marks?: unknown };
    if (doc.format !== FORMAT || typeof doc.marks !== 'object' || doc.marks === null) throw new Error('not a replay-marks file');
    const marks: [string, ReplayMark][] = [];
    for (const [key, value] of Object.entries(doc.marks as Record<string, unknown>)) {
      const { generation, seq } = (value ?? {}) as { generation?: unknown; seq?: unknown };
      if (Number.isSafeInteger(generation) && Number.isSafeInteger(seq) && (generation as number) >= 0 && (seq as number) >= 0) marks.push([key, { generation: generation as number, seq: seq as number }]);
    }
    return { marks, warning: null };
  } catch (err) {
    return { marks: [], warning: `${file} is unreadable (${(err as Error).message}); replay marks start empty` };
  }
}

async function writeMarks(file: string, marks: readonly [string, ReplayMark][]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Write then rename: a crash mid-write leaves the previous marks, never a truncated file.
  await writeFile(`${file}.tmp`, `${JSON.stringify({ format: FORMAT, marks: Object.fromEntries(marks) })}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
