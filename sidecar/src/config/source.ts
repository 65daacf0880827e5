/**
 * What both readers (Heartbeat files, native YAML) hand to the loader: a document in the native
 * shape, and where each of its values came from, so that one schema and one set of cross-checks
 * can speak about `ha.cf:7` or `sidecar.yaml:12` alike.
 */
import { readFile, stat } from 'node:fs/promises';
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

/**
 * Reads a config file. A `secret` file must not be open to group or others: Heartbeat refuses
 * such an authkeys ("Bad permissions on keyfile", heartbeat/auth.c), and so do we for every file
 * holding a secret. The text is still returned so that its other problems are reported too.
 */
export async function readSource(file: string, opts: { readonly secret: boolean; readonly key?: string }): Promise<ReadResult> {
  const whole: Where = { file, line: null, key: opts.key ?? file };
  try {
    const problems: ConfigProblem[] = [];
    if (opts.secret) {
      const mode = (await stat(file)).mode & 0o777;
      if ((mode & 0o077) !== 0) problems.push(problemAt(whole, 'secret-file-mode', `holds secrets but is mode ${mode.toString(8).padStart(3, '0')}: group or others have access`, `chmod 600 ${file}`));
    }
    return { text: await readFile(file, 'utf8'), problems };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    const what = opts.key === undefined ? 'the file' : `the file named by ${opts.key}`;
    return { text: null, problems: [problemAt(whole, 'file-unreadable', `${what} ${reason}`, `create ${file} or correct the path`)] };
  }
}
