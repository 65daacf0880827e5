/**
 * How many of each thing a configuration may hold. Far above any real cluster, and low enough
 * that nothing downstream (duplicate checks, one ping child per ping node, one problem line per
 * bad entry) can take long: 10,000 `ping` lines once passed check-config and then spawned
 * 10,000 pings at once. Both readers and the schema enforce the same numbers.
 */
export const LIST_LIMITS = {
  nodes: 64,
  paths: 32,
  peers: 64,
  groups: 256,
  /** Per group. The benchmark's scale case is 100 VIPs in one group; a datagram carries none. */
  vips: 1024,
  keys: 16,
  ping_nodes: 16,
  /** etcd members: 3, 5 or 7 in practice. */
  endpoints: 16,
} as const;

export type ListName = keyof typeof LIST_LIMITS;

/** The limit for a document path such as `groups.3.vips` or `auth.keys`: its last name. */
export function listLimit(path: string): number {
  const name = path.split('.').at(-1) as ListName;
  return Object.hasOwn(LIST_LIMITS, name) ? LIST_LIMITS[name] : Infinity;
}

/** Problems reported at most; beyond, one line says how many more there are. */
export const MAX_PROBLEMS = 100;
