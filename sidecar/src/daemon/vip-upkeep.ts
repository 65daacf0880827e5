/**
 * Keeping the VIPs as the claims want them between transitions (docs/architecture.md, Leases
 * and reconcile): the view of what is on the interfaces, kept from the kernel's address events
 * (resources/ip-monitor.ts) or, while none are heard, from a listing every reconcile period; the
 * lease renewals; and drift repair, judged on every change that touches a VIP. What to do comes
 * from the planners (plan.ts); the executor does it.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Vip } from '../domain/groups.js';
import type { Metrics } from '../metrics/index.js';
import type { AddressEvent, AddressWatch } from '../resources/ip-monitor.js';
import type { PresentAddress, VipDriver } from '../resources/ipaddr.js';
import type { Claim } from '../domain/claims.js';
import type { PlanOutcome } from '../work/executor.js';
import { planDriftRepair, planRenewal, type PlannedStep } from './plan.js';

/**
 * Renewals per lease: the VIPs of every held group get a fresh lease every third of it. The lease
 * is what bounds how long a killed or frozen holder's VIP outlives it, so it stays as it is; the
 * renewal only has to land before it ends. A third leaves two thirds of slack: a renewal that
 * fails outright is retried by the next one with a third to spare, and at the default 2 s lease
 * (deadtime 800 ms) a timer that is late by less than deadtime, which the stall guard would not
 * catch, still renews in time. Renewing more often buys nothing and costs CPU on every holder.
 */
export const LEASE_RENEWALS = 3;
/**
 * While the address events are heard, the addresses are still listed this often, in case an
 * event was lost without the monitor noticing. Through the `ip` session that costs no process.
 */
export const SAFETY_SWEEP_MS = 30_000;

export function renewMsOf(config: Config): number {
  return Math.floor((config.vipLeaseSec * 1000) / LEASE_RENEWALS);
}

export interface VipUpkeepDeps {
  readonly vips: VipDriver;
  readonly addresses: AddressWatch | undefined;
  readonly run: (plan: readonly PlannedStep[]) => Promise<PlanOutcome>;
  readonly config: () => Config;
  readonly claimOf: (id: string) => Claim;
  /**
   * Lets the engine see the time before the claims are trusted: after a freeze (SIGSTOP, a paused
   * VM) a timer or an event can come before the tick that notices the stall, and a repair or a
   * renewal on the claims from before the freeze would put the VIP back beside the peer that
   * took over meanwhile.
   */
  readonly tick: () => void;
  /** Whether an acquire or a release is moving the claims: drift is not judged meanwhile. */
  readonly applying: () => boolean;
  readonly metrics: Metrics;
  readonly log: Logger;
}

export interface VipUpkeep {
  /** What is on the interfaces, as last reported. */
  readonly present: ReadonlyMap<string, PresentAddress>;
  /** Lists the addresses: the kernel's word over any event. Throws when it cannot. */
  list(): Promise<void>;
  /** Starts hearing the kernel's address events. */
  watch(): void;
  stop(): void;
  /** Whether the events keep the view up to date now. */
  watching(): boolean;
  /** Every reconcile period: lists and repairs while no events are heard. */
  reconcile(): Promise<void>;
  /** Every safety sweep period: lists and repairs while events are heard. */
  sweep(): Promise<void>;
  /** Every renewal period: one batch renewing every held group's lease. */
  renew(): void;
  /** An acquire or release ended: judge what the events meanwhile left. */
  settled(): void;
  /** Records what an executed step left on the interfaces. */
  done(vips: readonly Vip[], present: boolean): void;
  /** Brings the VIP gauges in line with the view (after a reload added groups). */
  updateGauges(): void;
}

export function createVipUpkeep(d: VipUpkeepDeps): VipUpkeep {
  const { metrics, log } = d;
  let present = new Map<string, PresentAddress>();
  /** Groups with a restore or a stray removal under way: an event storm must not pile them up. */
  const repairing = new Set<string>();
  /** A drift check is due once the current burst of address events has been applied. */
  let driftCheckQueued = false;

  function watching(): boolean {
    return d.addresses?.up === true;
  }

  function updateGauges(): void {
    for (const g of d.config().groups) for (const v of g.vips) metrics.vipPresent.set({ group: g.id, address: v.address }, present.has(v.address) ? 1 : 0);
  }

  async function list(): Promise<void> {
    present = await d.vips.list();
    updateGauges();
  }

  /** Lists, then repairs drift; a failure is counted and left to the next time. */
  async function relist(): Promise<void> {
    try {
      await list();
    } catch (err) {
      metrics.ipCommandFailures.inc({ operation: 'list' });
      log.error({ err }, 'cannot read interface addresses');
      return;
    }
    repairDrift();
  }

  function onAddressEvent(event: AddressEvent): void {
    switch (event.type) {
      case 'added':
      case 'deleted': {
        const a = event.address;
        if (event.type === 'added') present.set(a.address, a);
        // The same address on another interface is not the one that went.
        else if (present.get(a.address)?.iface === a.iface) present.delete(a.address);
        if (!d.config().groups.some((g) => g.vips.some((v) => v.address === a.address))) return;
        updateGauges();
        queueDriftCheck();
        return;
      }
      case 'resync':
        void relist();
        return;
      case 'down':
        // The reconcile timer lists the addresses until the monitor is back.
        return;
      default: {
        const unknown: never = event;
        throw new Error(`unknown address event ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** One drift check for a burst of events (a renewal of many VIPs brings one event each). */
  function queueDriftCheck(): void {
    if (driftCheckQueued) return;
    driftCheckQueued = true;
    queueMicrotask(() => {
      driftCheckQueued = false;
      repairDrift();
    });
  }

  /** Level-triggered repair (plan.ts, planDriftRepair) from the view of the interfaces. */
  function repairDrift(): void {
    d.tick();
    if (d.applying()) return;
    for (const repair of planDriftRepair({ groups: d.config().groups, claimOf: d.claimOf, present: new Set(present.keys()), repairing })) {
      if (repair.kind === 'restore') log.warn({ event: 'drift', group: repair.group, missing: repair.addresses }, 'held VIP missing from the interface: restoring');
      else log.warn({ event: 'drift', group: repair.group, stray: repair.addresses }, 'VIP present on a node that does not hold it: removing');
      repairing.add(repair.group);
      void d.run(repair.plan).finally(() => repairing.delete(repair.group));
    }
  }

  return {
    get present() {
      return present;
    },
    list,
    watch: () => d.addresses?.start(onAddressEvent),
    stop: () => d.addresses?.stop(),
    watching,
    async reconcile() {
      if (!watching()) await relist();
    },
    async sweep() {
      if (watching()) await relist();
    },
    renew() {
      d.tick();
      const plan = planRenewal(d.config().groups, d.claimOf);
      if (plan.length > 0) void d.run(plan);
    },
    settled() {
      if (watching()) queueDriftCheck();
    },
    done(vips, isPresent) {
      const lease = d.config().vipLeaseSec;
      for (const v of vips) {
        if (isPresent) present.set(v.address, { iface: v.iface, address: v.address, prefixLength: v.prefixLength, label: v.label, validLifeSec: lease });
        else present.delete(v.address);
      }
      updateGauges();
    },
    updateGauges,
  };
}
