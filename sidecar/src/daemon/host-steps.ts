/**
 * How each planned step (plan.ts) is done on the host: `ip` through the VIP driver, gratuitous
 * ARP, the protected container within a time limit, and the engine told when the VIPs are up or
 * gone. The executor (work/executor.ts) calls `perform` for each step in its lane and
 * `onFailure` for each failure.
 */
import type { Logger } from 'pino';
import type { Timers } from '../clock.js';
import type { Config } from '../config/types.js';
import type { GroupSpec, Vip } from '../domain/groups.js';
import type { Metrics } from '../metrics/index.js';
import type { Announcer } from '../resources/announce.js';
import { FenceTooClose, type VipDriver } from '../resources/ipaddr.js';
import type { Claim } from '../domain/claims.js';
import type { PlannedStep } from './plan.js';
import type { GroupResources } from './runtime.js';

/** A Docker call that hangs must not hold the VIP hostage: the handover goes on without it. */
export const RESOURCE_STEP_LIMIT_MS = 3_000;

export interface HostStepsDeps {
  readonly vips: VipDriver;
  readonly announcer: Announcer;
  readonly resources: GroupResources | undefined;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** The config in force (a reload replaces it). */
  readonly config: () => Config;
  /**
   * The kernel lease to give a VIP in a write issued now: vip_lease, or less under an etcd fence
   * (engine/fence.ts); 0 when the VIP must not be assigned or renewed at all, as it would outlive
   * the fence.
   */
  readonly leaseSec: () => number;
  readonly groupOf: (id: string) => GroupSpec;
  readonly claimOf: (id: string) => Claim;
  /** Tells the engine the group's VIPs are up, or gone. */
  readonly report: (event: 'acquired' | 'released', group: string) => void;
  /** What the host now has of these VIPs, for the view of the interfaces. */
  readonly done: (vips: readonly Vip[], present: boolean) => void;
}

export interface HostSteps {
  perform(planned: PlannedStep): Promise<void>;
  onFailure(planned: PlannedStep, err: unknown, retryInMs: number | null): void;
  /** Announces the group's VIPs; with `repeats`, twice more while it is held (see announceWithRepeats). */
  announce(group: GroupSpec, repeats?: boolean): Promise<void>;
  /** Drops the repeat announcements still to come (shutdown). */
  cancelRepeats(): void;
  /**
   * Stops the group's announcements: the burst under way and the repeats to come. A release
   * does this first: a gratuitous ARP that leaves after the release, or after the peer's own,
   * points clients back at a host that no longer answers for the VIP.
   */
  silence(group: string): void;
}

export function createHostSteps(d: HostStepsDeps): HostSteps {
  const { vips, metrics, log, timers } = d;
  /** The last failure of each group's resource step (`group\0step`), to log changes only. */
  const resourceFailures = new Map<string, string>();
  /** Per group: the repeat announcements still to come, and the bursts under way. */
  const repeatTimers = new Map<string, Set<unknown>>();
  const bursts = new Map<string, Set<AbortController>>();
  const member = <T>(map: Map<string, Set<T>>, group: string): Set<T> => {
    let set = map.get(group);
    if (set === undefined) map.set(group, (set = new Set()));
    return set;
  };

  /** One way to do each step; the `never` check makes a new step a compile error. */
  async function perform({ step }: PlannedStep): Promise<void> {
    switch (step.do) {
      case 'assign': {
        // The driver asks for the lease as it issues each write (FenceTooClose when none is left).
        await vips.assign(step.vips, d.leaseSec);
        d.done(step.vips, true);
        return;
      }
      case 'renew': {
        // Planned when the timer fired; a group released since is left out, not renewed. Near
        // the fence nothing is renewed: the lease it has ends before the fence.
        const held = step.groups.filter((g) => d.claimOf(g.group) === 'held');
        if (held.length === 0 || d.leaseSec() < 1) return;
        await vips.assign(held.flatMap((g) => g.vips), d.leaseSec).catch((err: unknown) => {
          if (!(err instanceof FenceTooClose)) throw err;
        });
        return;
      }
      case 'remove':
        await vips.remove(step.vips);
        d.done(step.vips, false);
        return;
      case 'report':
        d.report(step.event, step.group);
        return;
      case 'announce':
        void (step.repeats ? announceWithRepeats(d.groupOf(step.group)) : announce(d.groupOf(step.group)));
        return;
      case 'container': {
        const resources = d.resources;
        if (resources === undefined) return;
        const g = d.groupOf(step.group);
        const which = step.step;
        await resourceStep(g, which, () => (which === 'reconcile' ? resources.reconcile(g, step.holding) : resources[which](g)));
        return;
      }
      default: {
        const unknown: never = step;
        throw new Error(`no way to perform ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** "Never crash" includes `ip` failing: counted, logged, and retried or left to the next renewal or event. */
  function onFailure({ step }: PlannedStep, err: unknown, retryInMs: number | null): void {
    const operation = step.do === 'assign' ? (step.purpose === 'acquire' ? 'assign' : 'restore') : step.do;
    metrics.ipCommandFailures.inc({ operation });
    const group = step.do === 'renew' ? step.groups.map((g) => g.group).join(',') : step.group;
    log.error({ err, group, operation }, retryInMs === null ? `${operation} of ${group} failed` : `${operation} failed; retrying in ${retryInMs} ms`);
  }

  /**
   * A burst now and two more, `garp.repeatAfterMs` apart, while still held. The repeats are what
   * move a client whose entry another holder's GARP refreshed within the last second: Linux
   * ignores a new address for a neighbour entry younger than its locktime (1 s by default), so
   * after a split brain the winner's first burst can be lost on clients that just heard the loser.
   * One repeat is not enough: the loser's last burst spreads over its packets and the spawn of
   * arping, and can end a few hundred ms after the winner learns of the release, so the first
   * repeat can still fall inside the locktime; the second cannot.
   */
  function announceWithRepeats(group: GroupSpec): Promise<void> {
    const first = announce(group);
    const repeatAfterMs = d.config().garp.repeatAfterMs;
    if (repeatAfterMs <= 0) return first;
    const pending = member(repeatTimers, group.id);
    for (const after of [1, 2]) {
      const handle = timers.setTimeout(() => {
        pending.delete(handle);
        if (d.claimOf(group.id) === 'held') void announce(group);
      }, after * repeatAfterMs);
      pending.add(handle);
    }
    return first;
  }

  async function announce(group: GroupSpec): Promise<void> {
    const burst = d.config().garp.burst;
    const controller = new AbortController();
    const underWay = member(bursts, group.id);
    underWay.add(controller);
    let failed: ReadonlySet<string>;
    try {
      failed = new Set((await d.announcer.announce(group.vips, burst, controller.signal)).failed);
      if (failed.size > 0) log.warn({ group: group.id, failed: [...failed] }, `gratuitous ARP failed for ${[...failed].join(', ')}`);
    } catch (err) {
      failed = new Set(group.vips.map((v) => v.address));
      log.warn({ err, group: group.id }, 'gratuitous ARP failed');
    } finally {
      underWay.delete(controller);
    }
    if (controller.signal.aborted) return;
    for (const v of group.vips) {
      if (failed.has(v.address)) metrics.garpFailed.inc({ address: v.address });
      else metrics.garpSent.inc({ address: v.address }, burst);
    }
  }

  /**
   * Runs one resource step within a time limit; its failure is logged and left to reconcile.
   * Reconcile runs every period, so while Docker stays down its failure is logged once, again
   * only when the error changes, and its recovery once.
   */
  async function resourceStep(group: GroupSpec, step: 'acquire' | 'release' | 'reconcile', work: () => Promise<void>): Promise<void> {
    let timer: unknown = null;
    const limit = new Promise<'timeout'>((r) => (timer = timers.setTimeout(() => r('timeout'), RESOURCE_STEP_LIMIT_MS)));
    const key = `${group.id}\0${step}`;
    try {
      const outcome = await Promise.race([work().then(() => 'done' as const), limit]);
      if (outcome === 'timeout') {
        if (resourceFailures.get(key) !== 'timeout') log.error({ event: 'resource-timeout', group: group.id, step }, `${step} of ${group.id}'s resources did not finish in ${RESOURCE_STEP_LIMIT_MS} ms; going on`);
        resourceFailures.set(key, 'timeout');
      } else if (resourceFailures.delete(key)) {
        log.info({ event: 'resource-recovered', group: group.id, step }, `${step} of ${group.id}'s resources works again`);
      }
    } catch (err) {
      const message = (err as Error).message;
      if (step !== 'reconcile' || resourceFailures.get(key) !== message) log.error({ err, group: group.id, step }, `${step} of ${group.id}'s resources failed; reconcile will retry`);
      resourceFailures.set(key, message);
    } finally {
      timers.clearTimeout(timer);
    }
  }

  return {
    perform,
    onFailure,
    announce: (group, repeats = false) => (repeats ? announceWithRepeats(group) : announce(group)),
    cancelRepeats() {
      for (const set of repeatTimers.values()) for (const h of set) timers.clearTimeout(h);
      repeatTimers.clear();
    },
    silence(group) {
      for (const h of repeatTimers.get(group) ?? []) timers.clearTimeout(h);
      repeatTimers.delete(group);
      for (const c of bursts.get(group) ?? []) c.abort();
    },
  };
}
