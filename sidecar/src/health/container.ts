/**
 * Whether the protected container, as Docker reports it, lets this node serve. Pure.
 *
 * What counts depends on the node's role, because the standby's container is paused or stopped
 * on purpose: a paused container on a node that does not hold is not unhealthy (Docker even
 * marks a paused container's HEALTHCHECK "unhealthy", since its probes cannot run, so health is
 * ignored while paused), and with `onRelease: stop` a stopped one is the cold standby. A holder's
 * container must be running and not unhealthy.
 */
import type { ContainerPolicy, ContainerState } from '../resources/docker.js';

/** `transition`: an acquire or release is being applied; the container is between states. */
export type NodeRole = 'holder' | 'standby' | 'transition';

/**
 * Reasons the container makes this node unfit to serve; empty when it is fit. Null during a
 * transition: no judgement while our own apply moves the container.
 */
export function judgeContainer(state: ContainerState, role: NodeRole, policy: Pick<ContainerPolicy, 'name' | 'onAcquire' | 'onRelease'>): string[] | null {
  if (role === 'transition') return null;
  const name = state.name ?? policy.name;
  const unhealthyProbe = (): string[] => [`container ${name} unhealthy${state.healthOutput ? `: ${state.healthOutput}` : ''}`];
  switch (state.status) {
    case 'missing':
      return [`container ${policy.name} missing`];
    case 'running':
      return state.health === 'unhealthy' ? unhealthyProbe() : [];
    case 'paused':
      // a holder's container must serve; reconcile unpauses it, and fall counts the delay
      return role === 'holder' ? [`container ${name} paused`] : [];
    case 'exited':
    case 'created': {
      const coldStandby = role === 'standby' && policy.onRelease === 'stop' && policy.onAcquire !== 'unpause' && policy.onAcquire !== 'none';
      if (coldStandby) return [];
      const how = state.oomKilled ? ', out of memory' : state.exitCode !== null && state.status === 'exited' ? `, exit code ${state.exitCode}` : '';
      return [`container ${name} ${state.status}${how}`];
    }
    case 'restarting':
    case 'removing':
    case 'dead':
      return [`container ${name} ${state.status}`];
  }
}
