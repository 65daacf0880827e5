import type { AcquirePolicy, ReleasePolicy } from '../resources/docker.js';

/**
 * The one validated, frozen configuration every part of the daemon reads.
 * Both the Heartbeat files (ha.cf, authkeys, haresources) and the native YAML load into it.
 * Durations are milliseconds; names follow Heartbeat's directives.
 */

export type AuthMethod = 'sha256' | 'sha1' | 'md5' | 'crc';

export interface AuthKey {
  readonly id: number;
  readonly method: AuthMethod;
  /** The secret's bytes exactly as written, never decoded as text (a binary secret is as good as any). */
  readonly secret: Buffer;
}

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

/** One communication path. A peer is dead only when it is silent on every path. */
export type PathSpec =
  | { readonly kind: 'ucast'; readonly iface: string; readonly peers: readonly string[] }
  | { readonly kind: 'mcast'; readonly iface: string; readonly group: string; readonly ttl: number; readonly loop: boolean }
  | { readonly kind: 'bcast'; readonly iface: string };

export interface Vip {
  readonly address: string;
  readonly prefixLength: number;
  readonly iface: string;
  /** IPv4 label such as `eth0:1`; null when none was given. */
  readonly label: string | null;
  readonly family: 4 | 6;
}

export interface GroupSpec {
  /** Stable across nodes: the first VIP's address for haresources lines, the `name` in YAML. */
  readonly id: string;
  /** The node named at the start of the haresources line; null in YAML when none is preferred. */
  readonly preferred: string | null;
  readonly vips: readonly Vip[];
  /**
   * The protected container that moves with the group; null for none. The loader always sets it;
   * it is optional only so that engine fixtures, which never look at it, need not spell it.
   */
  readonly container?: ContainerSpec | null;
}

/** A group's protected container and what acquire and release do to it (resources/docker.ts). */
export interface ContainerSpec {
  /** Container name, or Compose service name. */
  readonly name: string;
  /** Narrows a Compose service name to one project; null matches any. */
  readonly project: string | null;
  readonly onAcquire: AcquirePolicy;
  readonly onRelease: ReleasePolicy;
  /** Seconds Docker waits between SIGTERM and SIGKILL on stop and restart. */
  readonly stopTimeoutSec: number;
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
  /** How often containers are reconciled, and VIPs listed while no address events are heard (leases: every third of vipLeaseSec). */
  readonly reconcileMs: number;
  readonly garp: GarpSpec;
  /** Run on every transition with from, to and reason as arguments; null for none. */
  readonly notifyCommand: string | null;
  /** Local health checks besides the protected container's own; optional only for fixtures. */
  readonly health?: { readonly http: HttpCheck | null };
  readonly log: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'; readonly file: string | null };
}
