/**
 * The boot generation: peers reject anything from a lower generation as a replay of an older
 * boot, so it must rise on every start, even if the wall clock was set back. Heartbeat keeps a
 * counter on disk for the same reason (hb_generation); we keep max(wall clock, last + 1).
 *
 * The wire carries it as a JavaScript safe integer, so a counter at or beyond MAX_GENERATION
 * (a corrupt or tampered file) cannot be continued: it is set aside with a warning and the wall
 * clock (about 1.7e12 ms, three orders below the bound) starts a new count. Continuing it would
 * make every heartbeat unencodable, and every restart would write a higher number.
 */
import { constants } from 'node:fs';
import { open, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The highest generation ever used; leaves room below 2^53 − 1 for the wire's u64 field. */
export const MAX_GENERATION = Number.MAX_SAFE_INTEGER - 1;
/** A counter is at most 16 decimal digits; anything longer is not one of ours. */
const MAX_FILE_BYTES = 64;

export interface GenerationResult {
  readonly generation: number;
  /** Why the counter could not be kept on disk or continued; the wall clock alone was used. */
  readonly warning: string | null;
}

/** `last`: the stored counter (0 when none); `writable`: false when the file must be left alone. */
interface Read {
  readonly last: number;
  readonly warning: string | null;
  readonly writable: boolean;
}

export async function nextGeneration(file: string, wallNow: number): Promise<GenerationResult> {
  const wall = Math.floor(wallNow);
  const { last, warning, writable } = await readCounter(file);
  const generation = Math.max(wall, last + 1);
  if (!writable) return { generation, warning };
  try {
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a crash mid-write never leaves a truncated counter behind.
    await writeFile(`${file}.tmp`, `${generation}\n`);
    await rename(`${file}.tmp`, file);
    return { generation, warning };
  } catch (err) {
    return { generation, warning: unkept(file, err) };
  }
}

/** The stored counter; a missing file is 0, one that is not a counter in range is set aside. */
async function readCounter(file: string): Promise<Read> {
  let text: string;
  try {
    // O_NONBLOCK: a FIFO put in its place must not hang the start.
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { last: 0, writable: false, warning: `${file} is not a regular file; the boot generation is not kept, the wall clock alone is used` };
      const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_FILE_BYTES) return setAside(`${file} is over ${MAX_FILE_BYTES} bytes, not a boot generation`);
      text = buf.subarray(0, bytesRead).toString('latin1').trim();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { last: 0, warning: null, writable: true };
    return { last: 0, warning: unkept(file, err), writable: false };
  }
  if (!/^\d{1,16}$/.test(text)) return setAside(`${file} holds ${JSON.stringify(text.slice(0, 20))}, not a boot generation`);
  const last = Number(text);
  if (last >= MAX_GENERATION) return setAside(`${file} holds ${text}, beyond the largest generation the wire carries (${MAX_GENERATION})`);
  return { last, warning: null, writable: true };
}

/** A counter that cannot be continued is replaced by the wall clock's, and said so. */
function setAside(why: string): Read {
  return { last: 0, writable: true, warning: `${why}; starting again from the wall clock (peers that remember a higher generation reject this node until they forget it)` };
}

function unkept(file: string, err: unknown): string {
  return `cannot keep the boot generation in ${file} (${(err as Error).message}); if the clock is ever set back, peers will reject this node until they restart`;
}
