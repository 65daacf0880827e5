/**
 * What the protected container, as Docker reports it, says about this node's fitness to serve.
 * Pure.
 *
 * A judgement is evidence (fit, or unfit with reasons) or no evidence at all. Only a container
 * that runs can show how it is: a standby's paused or cold-stopped container shows nothing, and
 * neither does a HEALTHCHECK verdict that Docker has not renewed since the container was paused
 * (Docker runs no probe while paused, so after an unpause its verdict is the one from before, for
 * up to a whole interval), nor one still `starting`. No evidence leaves the verdict where it was:
 * a node that was found unfit stays unfit until its container has been seen running and healthy
 * again, and a node never found unfit stays fit. That memory is what stops a pair from flapping.
 */
import type { ContainerState } from '../resources/docker.js';
import type { ContainerPolicy } from '../domain/groups.js';

/** `transition`: an acquire or release is being applied; the container is between states. */
export type NodeRole = 'holder' | 'standby' | 'transition';

export type Judgement =
  | { readonly evidence: true; readonly reasons: readonly string[] }
  | { readonly evidence: false; readonly why: string };

const fit: Judgement = { evidence: true, reasons: [] };
const unfit = (...reasons: string[]): Judgement => ({ evidence: true, reasons });
const none = (why: string): Judgement => ({ evidence: false, why });

/**
 * @param staleHealth Docker's health verdict predates the container's last pause (see
 *   `HealthFreshness`); it says nothing about the container as it runs now.
 */
export function judgeContainer(state: ContainerState, role: NodeRole, policy: Pick<ContainerPolicy, 'name' | 'onAcquire' | 'onRelease'>, staleHealth = false): Judgement {
  if (role === 'transition') return none('an acquire or release is moving the container');
  const name = state.name ?? policy.name;
  switch (state.status) {
    case 'missing':
      return unfit(`container ${policy.name} missing`);
    case 'running':
      if (state.health === 'none') return fit;
      if (staleHealth) return none(`container ${name}'s health predates its last pause; waiting for Docker's next probe`);
      if (state.health === 'starting') return none(`container ${name} is starting`);
      return state.health === 'unhealthy' ? unfit(`container ${name} unhealthy${state.healthOutput ? `: ${state.healthOutput}` : ''}`) : fit;
    case 'paused':
      // a holder's container must serve; reconcile unpauses it
      return role === 'holder' ? unfit(`container ${name} paused`) : none(`container ${name} paused on a standby`);
    case 'exited':
    case 'created': {
      const coldStandby = role === 'standby' && policy.onRelease === 'stop' && policy.onAcquire !== 'unpause' && policy.onAcquire !== 'none';
      if (coldStandby) return none(`container ${name} ${state.status} on a cold standby`);
      const how = state.oomKilled ? ', out of memory' : state.exitCode !== null && state.status === 'exited' ? `, exit code ${state.exitCode}` : '';
      return unfit(`container ${name} ${state.status}${how}`);
    }
    case 'restarting':
    case 'removing':
    case 'dead':
      return unfit(`container ${name} ${state.status}`);
  }
}

/**
 * Tells Docker's fresh health verdicts from stale ones. The first look at a running container
 * after seeing it paused notes when Docker's last probe ended; the verdict is stale until a probe
 * ends at another time. Noting it then rather than while paused also discards a probe that failed
 * on the paused container between two looks. A start resets Docker's health to `starting`, so a
 * stopped container clears the mark.
 */
export class HealthFreshness {
  private pausedSeen = false;
  /** The end of the last probe before the unpause while its verdict is stale; undefined otherwise. */
  private staleProbe: string | null | undefined = undefined;

  /** Records one inspect; returns whether its health verdict is stale. */
  observe(state: ContainerState): boolean {
    if (state.status !== 'running') {
      this.pausedSeen = state.status === 'paused';
      this.staleProbe = undefined;
      return this.pausedSeen;
    }
    if (this.pausedSeen) {
      this.pausedSeen = false;
      this.staleProbe = state.healthCheckedAt;
    } else if (this.staleProbe !== undefined && state.healthCheckedAt !== this.staleProbe) {
      this.staleProbe = undefined;
    }
    return this.staleProbe !== undefined;
  }
}
