/**
 * Rejects authenticated datagrams that are not new (docs/architecture.md, Wire format). A MAC proves who sent a
 * datagram, not when, so a recorded heartbeat could be replayed to resurrect a dead peer or
 * replay an old claim. Each sender numbers its datagrams within a boot generation, and its
 * generation grows with every restart.
 *
 * Out-of-order datagrams are dropped too: a heartbeat older than one already seen carries no
 * news, and several paths deliver the same datagram more than once by design.
 */
export type ReplayVerdict = 'ok' | 'replay' | 'stale';

/** The newest (generation, seq) accepted from one sender on one path. */
export interface ReplayMark {
  readonly generation: number;
  readonly seq: number;
}

export class ReplayGuard {
  private readonly newest = new Map<string, ReplayMark>();
  private changes = 0;

  /**
   * `initial`: the marks a previous run kept (daemon/replay-store.ts). Without them a restarted
   * receiver would accept any earlier capture of a sender's current generation.
   */
  constructor(initial: Iterable<readonly [string, ReplayMark]> = []) {
    for (const [key, mark] of initial) this.newest.set(key, mark);
  }

  /** Every mark, for keeping across a restart. */
  marks(): [string, ReplayMark][] {
    return [...this.newest];
  }

  /** Grows with every accepted datagram: a store writes only when it moved. */
  get version(): number {
    return this.changes;
  }

  /**
   * `stale`: from an older boot of that node than one already heard. `replay`: same boot, and
   * the sequence is not above the highest accepted. A newer generation starts afresh. Only an
   * `ok` datagram moves the bar.
   */
  check(node: string, generation: number, seq: number): ReplayVerdict {
    const seen = this.newest.get(node);
    if (seen !== undefined) {
      if (generation < seen.generation) return 'stale';
      if (generation === seen.generation && seq <= seen.seq) return 'replay';
    }
    this.newest.set(node, { generation, seq });
    this.changes++;
    return 'ok';
  }
}
