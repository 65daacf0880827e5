/**
 * Resource groups: the VIPs that move together and the protected container that moves with them
 * (docs/architecture.md, Acquire and release). The configuration produces these; the engine
 * elects per group, and the resources act on its VIPs and container.
 */

export interface Vip {
  readonly address: string;
  readonly prefixLength: number;
  readonly iface: string;
  /** IPv4 label such as `eth0:1`; null when none was given. */
  readonly label: string | null;
  readonly family: 4 | 6;
}

/** What acquire does to the protected container. */
export const ACQUIRE_POLICIES = ['unpause-or-start', 'start', 'unpause', 'restart', 'none'] as const;
export type AcquirePolicy = (typeof ACQUIRE_POLICIES)[number];

/** What release does to the protected container. */
export const RELEASE_POLICIES = ['pause', 'stop', 'none'] as const;
export type ReleasePolicy = (typeof RELEASE_POLICIES)[number];

/** A group's protected container and what acquire and release do to it (resources/docker.ts). */
export interface ContainerSpec {
  /** Container name, or Compose service name when no container has this name. */
  readonly name: string;
  /** Narrows a Compose service name to one project; null matches any. */
  readonly project: string | null;
  readonly onAcquire: AcquirePolicy;
  readonly onRelease: ReleasePolicy;
  /** Seconds Docker waits between SIGTERM and SIGKILL on stop and restart. */
  readonly stopTimeoutSec: number;
}

/**
 * What the Docker driver and the container health check need of a ContainerSpec: the name and
 * the policies; the project and stop timeout have defaults there (any project, Docker's 10 s).
 */
export type ContainerPolicy = Pick<ContainerSpec, 'name' | 'onAcquire' | 'onRelease'> & Partial<Pick<ContainerSpec, 'project' | 'stopTimeoutSec'>>;

export interface GroupSpec {
  /** Stable across nodes: the first VIP's address for haresources lines, the `name` in YAML. */
  readonly id: string;
  /** The node named at the start of the haresources line; null in YAML when none is preferred. */
  readonly preferred: string | null;
  readonly vips: readonly Vip[];
  /**
   * The protected container that moves with the group; null for none. The loader always sets it;
   * it is optional only so that engine fixtures, which never look at it, need not spell it.
   */
  readonly container?: ContainerSpec | null;
}
