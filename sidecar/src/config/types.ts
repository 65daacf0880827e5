/**
 * The one validated, frozen configuration every part of the daemon reads. Both the Heartbeat
 * files (ha.cf, authkeys, haresources) and the native YAML load into it.
 *
 * Its type is the schema's output (schema.ts, `Draft`), not a second description beside it. Only
 * what the loader (load.ts) adds after the schema is written here: where the configuration came
 * from, and the keys with their secrets as bytes (the schema sees a secret as written, or the
 * name of a file only the loader reads). The vocabulary inside it (groups, VIPs, paths, keys)
 * is domain/'s, which the schema's transforms are typed to produce.
 */
import type { AuthKey } from '../domain/auth.js';
import type { Frozen } from '../domain/frozen.js';
import type { Draft } from './schema.js';

export type Config = Frozen<
  Omit<Draft, 'auth' | 'health'> & {
    readonly source: { readonly kind: 'heartbeat' | 'yaml'; readonly files: readonly string[] };
    readonly auth: Omit<Draft['auth'], 'keys'> & { readonly keys: readonly AuthKey[] };
    /** Optional only so that fixtures need not spell it: the loader always sets it. */
    readonly health?: Draft['health'];
  }
>;

/** The heartbeat timing (docs/architecture.md, Timing), in milliseconds. */
export type Timing = Config['timing'];
