/**
 * What a reload changed that only a restart applies (`reload.restart` in /status, and a warning
 * in the log): the API, logging, health checks, ping nodes and notify command are set up once at
 * start, and so is the election: with etcd, its client, lease and candidacy read their settings,
 * the groups, priorities and auto_failback at start (docs/etcd.md). Each is judged against the
 * configuration the daemon started with, not the last one reloaded: a change waiting for a
 * restart is still named by every later reload, until a reload takes it back.
 */
import type { Config } from '../config/types.js';

export function restartOnlyChanges(startedWith: Config, next: Config): string[] {
  const changed = (k: keyof Config): boolean => JSON.stringify(startedWith[k]) !== JSON.stringify(next[k]);
  const restart: string[] = (['api', 'log', 'health', 'pingNodes', 'notifyCommand'] as const).filter(changed);
  if (changed('election')) restart.push('election (backend and etcd settings)');
  if (startedWith.election.backend === 'etcd' && (changed('groups') || changed('nodes') || changed('autoFailback'))) restart.push('etcd candidacy (groups, priorities, auto_failback)');
  const containers = (c: Config): string => JSON.stringify(c.groups.filter((g) => g.container != null).map((g) => [g.id, g.container]));
  if (containers(startedWith) !== containers(next)) restart.push('protected containers');
  return restart;
}
