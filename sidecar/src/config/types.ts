import type { AuthKey } from '../domain/auth.js';
import type { GroupSpec } from '../domain/groups.js';
import type { PathSpec } from '../domain/peers.js';

/**
 * The one validated, frozen configuration every part of the daemon reads.
 * Both the Heartbeat files (ha.cf, authkeys, haresources) and the native YAML load into it.
 * Durations are milliseconds; names follow Heartbeat's directives.
 */

export interface Auth {
  /** The key id this node signs with (`auth N` in authkeys). */
  readonly sendKeyId: number;
  /** Every key this node accepts; includes the send key. Several allow rotation. */
  readonly keys: readonly AuthKey[];
}

export interface NodeSpec {
  readonly name: string;
  /** Higher wins when no preferred node or holder decides the election. Heartbeat files: 0. */
  readonly priority: number;
}

/** An HTTP GET against the protected service (health/probes.ts HttpCheckSpec). */
export interface HttpCheck {
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
}

export interface Timing {
  readonly keepaliveMs: number;
  readonly warntimeMs: number;
  readonly deadtimeMs: number;
  readonly initdeadMs: number;
}

export interface GarpSpec {
  /** Announcements sent at once on acquire. */
  readonly burst: number;
  /** One more burst this long after acquire, for caches that missed the first. */
  readonly repeatAfterMs: number;
  /** Periodic re-announce while holding; 0 turns it off. */
  readonly refreshMs: number;
}

export interface Config {
  readonly source: { readonly kind: 'heartbeat' | 'yaml'; readonly files: readonly string[] };
  /** This node's name: HB_NODE, else the YAML `node`, else the host name. Must be one of `nodes`. */
  readonly node: string;
  readonly nodes: readonly NodeSpec[];
  /** UDP port of every path (`udpport`). */
  readonly port: number;
  readonly paths: readonly PathSpec[];
  readonly timing: Timing;
  readonly autoFailback: boolean;
  readonly groups: readonly GroupSpec[];
  readonly auth: Auth;
  /** Addresses that prove outside reachability; a node that reaches none is ineligible. */
  readonly pingNodes: readonly string[];
  readonly api: { readonly host: string; readonly port: number; readonly tokenFile: string | null };
  /** Kernel lifetime given to a VIP, renewed while held, so a crashed holder's VIP vanishes by itself. */
  readonly vipLeaseSec: number;
  /** How often actual state (VIPs on interfaces) is compared with desired, and leases renewed. */
  readonly reconcileMs: number;
  readonly garp: GarpSpec;
  /** Run on every transition with from, to and reason as arguments; null for none. */
  readonly notifyCommand: string | null;
  /** Local health checks besides the protected container's own; optional only for fixtures. */
  readonly health?: { readonly http: HttpCheck | null };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; readonly file: string | null };
}
