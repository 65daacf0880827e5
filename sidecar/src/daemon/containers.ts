/**
 * The runtime's `GroupResources` for protected containers: each group that names a container gets
 * one driver (resources/docker.ts); a group without one has nothing besides its VIPs. Errors
 * propagate: the runtime logs them, bounds their time and leaves the repair to reconcile.
 *
 * `onRole` tells the health monitor of a group's container what the container should be doing:
 * `transition` while an acquire or release moves it, then `holder` or `standby`.
 *
 * While `unfit` says this node is unhealthy, a release and a standby's reconcile leave the
 * container running rather than pause or stop it, and the reconcile unpauses one found paused:
 * only a running container can show that it has recovered, and until it does the node does not
 * take the group back.
 */
import type { Logger } from 'pino';
import type { ContainerSpec, GroupSpec } from '../domain/groups.js';
import type { NodeRole } from '../health/container.js';
import type { ApplyResult, ContainerDriver } from '../resources/docker.js';
import type { GroupResources } from './runtime.js';

export interface ContainerResourcesOptions {
  readonly onRole?: (group: string, role: NodeRole) => void;
  /** Whether this node is unhealthy now. */
  readonly unfit?: () => boolean;
}

export function createContainerResources(
  groups: readonly GroupSpec[],
  makeDriver: (spec: ContainerSpec) => ContainerDriver,
  logger: Logger,
  opts: ContainerResourcesOptions = {},
): GroupResources {
  const log = logger.child({ component: 'containers' });
  const drivers = new Map<string, ContainerDriver>();
  for (const g of groups) if (g.container) drivers.set(g.id, makeDriver(g.container));
  const setRole = (group: string, role: NodeRole): void => opts.onRole?.(group, role);
  const unfit = (): boolean => opts.unfit?.() ?? false;

  function logged(group: GroupSpec, what: string, r: ApplyResult): void {
    if (r.steps.length === 0) return;
    log.info({ event: 'container', group: group.id, container: group.container?.name, what, steps: r.steps, before: r.before.status, after: r.after.status }, `${what} ${group.id}: ${r.steps.join(', ')} (${r.before.status} -> ${r.after.status})`);
  }

  /** Moves the container with the role set to `transition` meanwhile, then to `after`, however it ended. */
  async function move(group: GroupSpec, what: 'acquire' | 'release', after: NodeRole): Promise<void> {
    const driver = drivers.get(group.id);
    if (driver === undefined) return;
    if (what === 'release' && unfit()) {
      log.info({ event: 'container', group: group.id, container: group.container?.name, what }, `release ${group.id}: ${group.container?.name} left running while this node is unhealthy, to see it recover`);
      setRole(group.id, after);
      return;
    }
    setRole(group.id, 'transition');
    try {
      logged(group, what, await driver[what]());
    } finally {
      setRole(group.id, after);
    }
  }

  return {
    acquire: (group) => move(group, 'acquire', 'holder'),
    release: (group) => move(group, 'release', 'standby'),
    async reconcile(group, holding) {
      const driver = drivers.get(group.id);
      if (driver === undefined) return;
      setRole(group.id, holding ? 'holder' : 'standby');
      if (!holding && unfit()) {
        if ((await driver.inspect()).status === 'paused') logged(group, 'reconcile (unfit: unpaused to watch it)', await driver.reconcile(true));
        return;
      }
      logged(group, 'reconcile', await driver.reconcile(holding));
    },
  };
}
