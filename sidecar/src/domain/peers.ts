/** Peers and the paths that reach them (docs/architecture.md, Peers and paths). */

/** How a peer is heard, on one path or overall (the best of its paths). */
export const PEER_LIVENESS = ['unknown', 'up', 'late', 'dead', 'left'] as const;

export type PeerLiveness = (typeof PEER_LIVENESS)[number];

/** One communication path. A peer is dead only when it is silent on every path. */
export type PathSpec =
  | { readonly kind: 'ucast'; readonly iface: string; readonly peers: readonly string[] }
  | { readonly kind: 'mcast'; readonly iface: string; readonly group: string; readonly ttl: number; readonly loop: boolean }
  | { readonly kind: 'bcast'; readonly iface: string };
