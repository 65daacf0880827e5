/**
 * election: etcd, what one node does about one group given what etcd holds (docs/etcd.md,
 * Candidacy). etcd guarantees one owner per group key; this decides who should try to own it
 * and when an owner should hand it on, with the meaning each setting has in the heartbeat
 * election:
 *
 * - a node is a candidate while it is registered in etcd (its node key, under its lease) and
 *   eligible: running, healthy, not in maintenance;
 * - candidates are ranked by rank.ts: standby yields, the latest takeover wins, then
 *   auto_failback's rule over the preferred node and the holder, then priority, then name;
 * - only the best candidate tries to create a vacant group key, so the group goes where the
 *   heartbeat election would send it; should it not (it lost etcd just then), any eligible
 *   candidate tries once the group has been vacant for `vacantGraceMs`; a node that has only
 *   just registered waits that grace too, since it cannot yet see everyone;
 * - the holder hands on (releases, then deletes its key) when it goes into maintenance, when it is
 *   unhealthy and some candidate is fit, or when another candidate outranks it (standby,
 *   takeover, failback, priority); an unfit holder with no fit candidate keeps serving.
 *
 * Pure: the daemon (daemon/quorum.ts) feeds it etcd's view and the node's own state.
 */
import type { CandidateRecord, StoreView } from '../domain/election.js';
import { winnerOf, type Candidate } from './rank.js';

export interface GroupRef {
  readonly id: string;
  readonly preferred: string | null;
}

export type Verdict =
  /** We own the key and should hold the group. */
  | { readonly kind: 'hold'; readonly reason: string }
  /** We own the key but should hand the group on: release, then delete the key. */
  | { readonly kind: 'resign'; readonly reason: string }
  /** The group is vacant and we should try to create its key. */
  | { readonly kind: 'campaign'; readonly reason: string }
  /** Another node owns it, or it is vacant and not ours to take (yet). */
  | { readonly kind: 'wait'; readonly holder: string | null };

export interface CandidacyInput {
  readonly self: string;
  readonly group: GroupRef;
  readonly autoFailback: boolean;
  readonly view: StoreView;
  /** This node as it stands now (it may not have reached etcd yet). */
  readonly own: CandidateRecord;
  /** Whether this node may stand at all: running, its lease granted and its fence holding. */
  readonly standing: boolean;
  /**
   * How long the group has been vacant as this node could judge it (since it stood, if later), in
   * ms; 0 when it is not vacant.
   */
  readonly vacantForMs: number;
  /**
   * This node stood (registered) less than a grace ago: the others may not have registered yet
   * (all of them starting, or back after etcd was down), so it cannot know it is the best.
   */
  readonly fresh: boolean;
  readonly vacantGraceMs: number;
}

function eligible(r: CandidateRecord): boolean {
  return r.healthy && !r.maintenance;
}

export function judge(input: CandidacyInput): Verdict {
  const { self, group, view, own } = input;
  const holder = view.holders.get(group.id) ?? null;
  const epochOf = (node: string) => (view.takeover?.node === node ? view.takeover.epoch : 0);
  const candidate = (node: string, r: CandidateRecord): Candidate => ({ node, standby: r.standby, epoch: epochOf(node), holder: holder === node, priority: r.priority });
  // Our own record as we know it now, not as etcd last heard it: a standby or a health change
  // must count before the put that publishes it comes back.
  const records = new Map(view.candidates);
  if (input.standing) records.set(self, own);
  else records.delete(self);
  const fit = [...records].filter(([, r]) => eligible(r)).map(([node, r]) => candidate(node, r));
  const winner = winnerOf(fit, group.preferred, input.autoFailback);

  if (holder === self) {
    if (!input.standing) return { kind: 'resign', reason: 'fence' };
    if (own.maintenance) return { kind: 'resign', reason: 'maintenance' };
    if (!own.healthy) return winner !== null ? { kind: 'resign', reason: 'unhealthy' } : { kind: 'hold', reason: 'least-unfit' };
    if (winner === null || winner.node === self) return { kind: 'hold', reason: 'elected' };
    if (own.standby) return { kind: 'resign', reason: 'standby' };
    if (winner.epoch > epochOf(self)) return { kind: 'resign', reason: `takeover:${winner.node}` };
    if (input.autoFailback && winner.node === group.preferred) return { kind: 'resign', reason: `failback:${winner.node}` };
    return { kind: 'resign', reason: `outranked:${winner.node}` };
  }
  if (holder !== null) return { kind: 'wait', holder };
  if (!input.standing || !eligible(own)) return { kind: 'wait', holder: null };
  if (winner?.node === self && !input.fresh) return { kind: 'campaign', reason: 'elected' };
  if (input.vacantForMs >= input.vacantGraceMs) return { kind: 'campaign', reason: 'vacant' };
  return { kind: 'wait', holder: null };
}
