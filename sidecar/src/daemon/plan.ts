/**
 * What to do, decided apart from doing it: pure functions from the claims (the engine's) and
 * what the kernel reports to the ordered steps that make the host match them
 * (docs/architecture.md, Acquire and release; Leases and reconcile). The runtime hands the steps
 * to one executor (work/executor.ts), which runs each in its lane and ends a plan whose step is
 * no longer wanted.
 *
 * Two lanes keep today's promise that a lease renewal never waits on Docker: VIP work (assign,
 * renew, remove, and what must follow it at once) in `vip`, container work in `container`.
 */
import type { GroupSpec, Vip } from '../domain/groups.js';
import type { Claim } from '../domain/claims.js';

export type Lane = 'vip' | 'container';

export type Step =
  /** Assign the group's VIPs with a fresh lease. */
  | { readonly do: 'assign'; readonly group: string; readonly vips: readonly Vip[]; readonly purpose: 'acquire' | 'restore' }
  /** Renew the leases of the VIPs of every group listed that is still held when the step runs, in one batch. */
  | { readonly do: 'renew'; readonly groups: readonly { readonly group: string; readonly vips: readonly Vip[] }[] }
  | { readonly do: 'remove'; readonly group: string; readonly vips: readonly Vip[]; readonly purpose: 'release' | 'stray' }
  /** Tell the engine that the VIPs are up, or gone. */
  | { readonly do: 'report'; readonly group: string; readonly event: 'acquired' | 'released' }
  /** Gratuitous ARP now; with `repeats`, twice more (docs/architecture.md, Split brain). */
  | { readonly do: 'announce'; readonly group: string; readonly repeats: boolean }
  /** The protected container's step, bounded in time; its failure is logged and left to reconcile. */
  | { readonly do: 'container'; readonly group: string; readonly step: 'acquire' | 'release' | 'reconcile'; readonly holding: boolean };

export interface PlannedStep {
  readonly lane: Lane;
  /**
   * The claim the step's group must still have when the step's turn comes (and between its
   * retries); when it has not, the step and the rest of its plan are dropped: the engine has
   * moved on and will have planned anew.
   */
  readonly while: Claim | null;
  /** A failure is retried with backoff for as long as the step is wanted; otherwise it ends the plan. */
  readonly retry: boolean;
  readonly step: Step;
}

/** VIPs first, then the engine is told and the segment; the container last, after the VIP is up. */
export function planAcquire(group: GroupSpec, hasResources: boolean): PlannedStep[] {
  const steps: PlannedStep[] = [
    { lane: 'vip', while: 'acquiring', retry: true, step: { do: 'assign', group: group.id, vips: group.vips, purpose: 'acquire' } },
    { lane: 'vip', while: 'acquiring', retry: false, step: { do: 'report', group: group.id, event: 'acquired' } },
    { lane: 'vip', while: 'held', retry: false, step: { do: 'announce', group: group.id, repeats: true } },
  ];
  // A release may come meanwhile; it runs after this in the container lane, so skip rather than undo.
  if (hasResources) steps.push({ lane: 'container', while: 'held', retry: false, step: { do: 'container', group: group.id, step: 'acquire', holding: true } });
  return steps;
}

/** The reverse of acquire: the container first, then the VIPs, then the engine is told. */
export function planRelease(group: GroupSpec, hasResources: boolean): PlannedStep[] {
  return [
    ...(hasResources ? [{ lane: 'container', while: 'releasing', retry: false, step: { do: 'container', group: group.id, step: 'release', holding: false } } as const] : []),
    { lane: 'vip', while: 'releasing', retry: true, step: { do: 'remove', group: group.id, vips: group.vips, purpose: 'release' } },
    { lane: 'vip', while: 'releasing', retry: false, step: { do: 'report', group: group.id, event: 'released' } },
  ];
}

/** One batch for every held group; nothing when none is held. */
export function planRenewal(groups: readonly GroupSpec[], claimOf: (group: string) => Claim): PlannedStep[] {
  const held = groups.filter((g) => claimOf(g.id) === 'held');
  if (held.length === 0) return [];
  return [{ lane: 'vip', while: null, retry: false, step: { do: 'renew', groups: held.map((g) => ({ group: g.id, vips: g.vips })) } }];
}

export interface DriftSituation {
  readonly groups: readonly GroupSpec[];
  readonly claimOf: (group: string) => Claim;
  /** The addresses on the interfaces, as the kernel last reported them. */
  readonly present: ReadonlySet<string>;
  /** Groups with a repair already under way: not planned twice. */
  readonly repairing: ReadonlySet<string>;
}

export interface DriftRepair {
  readonly group: string;
  readonly kind: 'restore' | 'stray';
  /** The VIPs missing (restore) or present where they should not be (stray). */
  readonly addresses: readonly string[];
  readonly plan: readonly PlannedStep[];
}

/**
 * Level-triggered: whatever happened to the interfaces, make them match the claims. A held group
 * missing a VIP gets them all assigned again and announced; a group this node does not claim
 * loses the ones present. Groups whose claims are moving (acquiring, releasing) are the apply's
 * to settle, and are left alone.
 */
export function planDriftRepair(s: DriftSituation): DriftRepair[] {
  const repairs: DriftRepair[] = [];
  for (const g of s.groups) {
    if (s.repairing.has(g.id)) continue;
    const claim = s.claimOf(g.id);
    const missing = g.vips.filter((v) => !s.present.has(v.address));
    if (claim === 'held' && missing.length > 0) {
      repairs.push({
        group: g.id,
        kind: 'restore',
        addresses: missing.map((v) => v.address),
        plan: [
          { lane: 'vip', while: 'held', retry: false, step: { do: 'assign', group: g.id, vips: g.vips, purpose: 'restore' } },
          { lane: 'vip', while: 'held', retry: false, step: { do: 'announce', group: g.id, repeats: false } },
        ],
      });
    } else if (claim === 'none' && missing.length < g.vips.length) {
      const stray = g.vips.filter((v) => s.present.has(v.address));
      repairs.push({
        group: g.id,
        kind: 'stray',
        addresses: stray.map((v) => v.address),
        plan: [{ lane: 'vip', while: 'none', retry: false, step: { do: 'remove', group: g.id, vips: stray, purpose: 'stray' } }],
      });
    }
  }
  return repairs;
}

/** Each settled group's container back to its role: running while held, standing by otherwise. */
export function planContainerReconcile(groups: readonly GroupSpec[], claimOf: (group: string) => Claim, busy: ReadonlySet<string>): PlannedStep[] {
  const steps: PlannedStep[] = [];
  for (const g of groups) {
    const claim = claimOf(g.id);
    if ((claim !== 'held' && claim !== 'none') || busy.has(g.id)) continue;
    steps.push({ lane: 'container', while: claim, retry: false, step: { do: 'container', group: g.id, step: 'reconcile', holding: claim === 'held' } });
  }
  return steps;
}
