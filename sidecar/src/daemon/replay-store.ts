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
 *
 * Written synchronously, in place, by one positioned write into a file kept open: a few hundred
 * bytes into the page cache cost less than the thread-pool round trips of the promise API, and a
 * rename cost up to a millisecond on an idle daemon's CPU. One write(2) is whole or not done when
 * the process dies; the text is padded with spaces to the file's length (JSON allows them), so a
 * shorter text never leaves the end of a longer one behind.
 */
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
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
  stop(): void;
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
  let out: MarksFile | null = null;

  const save = (): void => {
    if (guard.version === written) return;
    const version = guard.version;
    try {
      out ??= openMarksFile(opts.file);
      out.write(`${JSON.stringify({ format: FORMAT, marks: Object.fromEntries(guard.marks()) })}\n`);
      written = version;
    } catch (err) {
      // Opened again on the next try: the file or its directory may have been removed under us.
      out?.close();
      out = null;
      opts.onError?.(err);
    }
  };

  return {
    guard,
    warning: read.warning,
    start() {
      handle ??= opts.timers.setInterval(save, opts.intervalMs);
    },
    stop() {
      if (handle !== null) opts.timers.clearInterval(handle);
      handle = null;
      save();
      out?.close();
      out = null;
    },
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

interface MarksFile {
  write(text: string): void;
  close(): void;
}

function openMarksFile(file: string): MarksFile {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let length = fstatSync(fd).size;
  // A file the reader refused for its size would be refused forever once padded to it.
  if (length > MAX_FILE_BYTES) {
    ftruncateSync(fd, 0);
    length = 0;
  }
  return {
    write(text) {
      const body = Buffer.from(text);
      const bytes = body.length >= length ? body : Buffer.concat([body, Buffer.alloc(length - body.length, ' ')]);
      writeSync(fd, bytes, 0, bytes.length, 0);
      length = bytes.length;
    },
    close: () => closeSync(fd),
  };
}
