/**
 * The election order for one group (docs/architecture.md, Election order), shared by both
 * elections: the heartbeat engine ranks the nodes it hears, the etcd candidacy (candidacy.ts)
 * ranks the candidates registered in etcd. Operator intent first (standby yields, the newest
 * takeover wins), then auto_failback's rule (preferred node, else whoever holds; off: the holder
 * first), then priority, then the lowest name, so that every node breaks ties the same way.
 */

export interface Candidate {
  readonly node: string;
  readonly standby: boolean;
  /** Takeover epoch: the newest takeover outranks every earlier one. */
  readonly epoch: number;
  readonly holder: boolean;
  readonly priority: number;
}

export function outranks(a: Candidate, b: Candidate, preferred: string | null, autoFailback: boolean): boolean {
  const ka = rankKey(a, preferred, autoFailback);
  const kb = rankKey(b, preferred, autoFailback);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i]! !== kb[i]!) return ka[i]! > kb[i]!;
  }
  return a.node < b.node;
}

function rankKey(c: Candidate, preferred: string | null, autoFailback: boolean): number[] {
  const isPreferred = c.node === preferred ? 1 : 0;
  const isHolder = c.holder ? 1 : 0;
  const stickiness = autoFailback ? [isPreferred, isHolder] : [isHolder, isPreferred];
  return [c.standby ? 0 : 1, c.epoch, ...stickiness, c.priority];
}

/** The best of the candidates, or null when there is none. */
export function winnerOf<C extends Candidate>(candidates: readonly C[], preferred: string | null, autoFailback: boolean): C | null {
  let winner: C | null = null;
  for (const c of candidates) if (winner === null || outranks(c, winner, preferred, autoFailback)) winner = c;
  return winner;
}
