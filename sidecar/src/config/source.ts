/**
 * What both readers (Heartbeat files, native YAML) hand to the loader: a document in the native
 * shape, and where each of its values came from, so that one schema and one set of cross-checks
 * can speak about `ha.cf:7` or `sidecar.yaml:12` alike.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { problemAt } from './problem.js';
import type { ConfigProblem, Locate, Where } from './problem.js';

export interface SourceDocument {
  readonly kind: 'heartbeat' | 'yaml';
  readonly files: readonly string[];
  /** The native-shaped document; null when the source could not be read or parsed at all. */
  readonly doc: Record<string, unknown> | null;
  readonly locate: Locate;
  /**
   * Values the reader filled in rather than read (as `pathKey`s): a stand-in for a missing value
   * whose absence it reported, so that the rest can still be checked, or a value derived from
   * another that is judged itself (a haresources group is named by its first address). A problem
   * with one is reported where it comes from, so the loader says nothing more about it.
   */
  readonly derived: ReadonlySet<string>;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

/** `groups.0.vips.1`: the key under which a location is recorded. */
export const pathKey = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/**
 * A locator from recorded locations: the longest recorded prefix of a path wins, so a problem
 * deep inside a value points at the line that wrote the value; a list points at its first item.
 */
export function prefixLocator(recorded: ReadonlyMap<string, Where>, fallback: (path: readonly PropertyKey[]) => Where): Locate {
  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const hit = recorded.get(pathKey(path.slice(0, n)));
      if (hit !== undefined) return hit;
    }
    const inside = `${pathKey(path)}.`;
    for (const [key, where] of recorded) if (key.startsWith(inside)) return where;
    return fallback(path);
  };
}

export type ReadResult = { readonly text: string; readonly problems: readonly ConfigProblem[] } | { readonly text: null; readonly problems: readonly ConfigProblem[] };
export type ReadBytesResult = { readonly bytes: Buffer; readonly problems: readonly ConfigProblem[] } | { readonly bytes: null; readonly problems: readonly ConfigProblem[] };

/** The largest configuration file read: ha.cf, haresources and YAML files are a few kB. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** The largest secret file read: a key or a token, not a document. */
export const MAX_SECRET_BYTES = 64 << 10;

export interface ReadOptions {
  /** Holds secrets: must be private to its owner, and owned by this process's user or root. */
  readonly secret: boolean;
  /** How problems name the file: the key that named it. */
  readonly key?: string;
}

/**
 * Reads a config file as bytes. Refused before anything is read: a file that is not a regular
 * file (a FIFO would block the start forever, a device would never end), and one over its size
 * bound (a 50 MB line once took 15 s and 2.9 GB before the parser refused it). A `secret` file
 * must not be open to group or others: Heartbeat refuses such an authkeys ("Bad permissions on
 * keyfile", heartbeat/auth.c), and so do we for every file holding a secret; nor may it belong
 * to another user than this process's or root, who could rewrite it. Its bytes are still
 * returned so that its other problems are reported too.
 */
export async function readSourceBytes(file: string, opts: ReadOptions): Promise<ReadBytesResult> {
  const whole: Where = { file, line: null, key: opts.key ?? file };
  const what = opts.key === undefined ? 'the file' : `the file named by ${opts.key}`;
  const limit = opts.secret ? MAX_SECRET_BYTES : MAX_CONFIG_BYTES;
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, silently.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    return { bytes: null, problems: [problemAt(whole, 'file-unreadable', `${what} ${reason}`, `create ${file} or correct the path`)] };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { bytes: null, problems: [problemAt(whole, 'file-unreadable', `${what} is not a regular file (${fileKind(st)})`, `point it at a regular file; ${file} is read once at start`)] };
    if (st.size > limit) return { bytes: null, problems: [problemAt(whole, 'file-too-large', `${what} is ${st.size} bytes, over the ${limit}-byte limit for ${opts.secret ? 'a secret' : 'a configuration file'}`, 'correct the path, or trim the file')] };
    const problems: ConfigProblem[] = [];
    if (opts.secret) {
      const mode = st.mode & 0o777;
      if ((mode & 0o077) !== 0) problems.push(problemAt(whole, 'secret-file-mode', `holds secrets but is mode ${mode.toString(8).padStart(3, '0')}: group or others have access`, `chmod 600 ${file}`));
      const me = process.geteuid?.() ?? st.uid;
      if (st.uid !== me && st.uid !== 0) problems.push(problemAt(whole, 'secret-file-owner', `holds secrets but belongs to user ${st.uid}, who could rewrite it; this daemon runs as user ${me}`, `chown ${me} ${file} (or root)`));
    }
    // Read one byte past the bound: a file that grew since stat is still refused.
    const buf = Buffer.alloc(Math.min(limit + 1, Math.max(st.size, 0) + 4096));
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) return { bytes: null, problems: [problemAt(whole, 'file-too-large', `${what} is over the ${limit}-byte limit`, 'correct the path, or trim the file')] };
      if (length === buf.length) break;
    }
    return { bytes: buf.subarray(0, length), problems };
  } catch (err) {
    return { bytes: null, problems: [problemAt(whole, 'file-unreadable', `${what} cannot be read (${(err as Error).message})`, `check ${file}`)] };
  } finally {
    await handle.close();
  }
}

/**
 * Reads a config file as text. A secret file is decoded as latin1, one character per byte, so
 * that no byte sequence is lost (UTF-8 decoding turns every invalid sequence into U+FFFD, and
 * two different binary secrets into one key): `Buffer.from(text, 'latin1')` gives the bytes back.
 */
export async function readSource(file: string, opts: ReadOptions): Promise<ReadResult> {
  const read = await readSourceBytes(file, opts);
  if (read.bytes === null) return { text: null, problems: read.problems };
  return { text: read.bytes.toString(opts.secret ? 'latin1' : 'utf8'), problems: read.problems };
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}
