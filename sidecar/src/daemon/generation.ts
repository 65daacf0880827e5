/**
 * The boot generation: peers reject anything from a lower generation as a replay of an older
 * boot, so it must rise on every start, even if the wall clock was set back. Heartbeat keeps a
 * counter on disk for the same reason (hb_generation); we keep max(wall clock, last + 1).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface GenerationResult {
  readonly generation: number;
  /** Why the counter could not be kept on disk; the wall clock alone was used. */
  readonly warning: string | null;
}

export async function nextGeneration(file: string, wallNow: number): Promise<GenerationResult> {
  let last = 0;
  try {
    last = Number.parseInt(await readFile(file, 'utf8'), 10) || 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { generation: Math.floor(wallNow), warning: unkept(file, err) };
  }
  const generation = Math.max(Math.floor(wallNow), last + 1);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a crash mid-write never leaves a truncated counter behind.
    await writeFile(`${file}.tmp`, `${generation}\n`);
    await rename(`${file}.tmp`, file);
    return { generation, warning: null };
  } catch (err) {
    return { generation, warning: unkept(file, err) };
  }
}

function unkept(file: string, err: unknown): string {
  return `cannot keep the boot generation in ${file} (${(err as Error).message}); if the clock is ever set back, peers will reject this node until they restart`;
}
