/** `heartbeat-sidecar status`: the snapshot as a table an operator reads at a glance. */
import { rscstatusSentence } from '../api/rscstatus.js';
import type { ContainerStatus, ElectionStatus, GroupStatus, PeerStatus, StatusSnapshot } from '../daemon/status.js';

export function formatStatus(s: StatusSnapshot): string {
  const operator = [s.standby ? 'standby' : null, s.maintenance ? 'maintenance' : null].filter((x) => x !== null);
  const summary = table([
    ['Node:', s.node],
    ['Role:', s.role],
    ['rscstatus:', `${s.rscstatus} (${rscstatusSentence(s.rscstatus)})`],
    ['Health:', s.healthy ? 'healthy' : `unhealthy: ${s.healthReasons.join('; ') || 'no reason given'}`],
    ['Operator:', operator.length === 0 ? 'none' : operator.join(', ')],
    ['Ready:', s.ready ? 'yes' : 'no (initdead: waiting for peers before taking anything)'],
    ['Config:', s.configHash],
    ['Election:', electionLine(s.election)],
  ]);
  const groups =
    s.groups.length === 0
      ? ['(no resource groups configured)']
      : table([['GROUP', 'PREFERRED', 'HOLDER', 'THIS NODE', 'VIPS'], ...s.groups.map(groupRow)]);
  const peers =
    s.peers.length === 0
      ? ['(no peers configured)']
      : table([['PEER', 'STATE', 'LAST HEARD', 'RTT', 'HEALTH', 'PATHS'], ...s.peers.map(peerRow)]);
  const containers = s.containers.length === 0 ? [] : ['', ...table([['CONTAINER', 'GROUP', 'DOCKER', 'STATE', 'HEALTH'], ...s.containers.map(containerRow)])];
  const owners = s.election?.backend === 'etcd' ? ['', ...table([['GROUP', 'OWNER IN ETCD'], ...Object.entries(s.election.holders).map(([group, owner]) => [group, owner ?? 'nobody'])])] : [];
  const t = s.lastTransition;
  const last = t === null ? 'Last transition: none since start' : `Last transition: ${t.group} ${t.from} -> ${t.to} (${t.reason}) at ${t.at}`;
  return [...summary, '', ...groups, ...owners, ...containers, '', ...peers, '', last].join('\n');
}

/**
 * Who decides the holders; with etcd, what this node's standing rests on: its lease, how long
 * before it must let go, and whether etcd answered. A daemon older than the field says nothing.
 */
function electionLine(e: ElectionStatus | undefined): string {
  if (e === undefined || e.backend === 'heartbeat') return 'heartbeat (the nodes among themselves, over the paths)';
  const fence = e.fenceInMs === null ? 'no fence (nothing may be held)' : e.fenceInMs > 0 ? `fence in ${(e.fenceInMs / 1000).toFixed(1)} s` : 'fence passed';
  const store = e.storeReachable ? 'etcd answers' : 'etcd does not answer';
  return `etcd, lease ${e.lease ?? 'none'}, ${fence}, ${store}, on_store_lost ${e.onStoreLost}, registered: ${e.candidates.join(', ') || 'none'}`;
}

function groupRow(g: GroupStatus): string[] {
  const vips = g.vips.map((v) => `${v.address} (${v.present ? 'here' : 'not here'})`).join(', ');
  return [g.id, g.preferred ?? '-', g.holder ?? 'nobody', g.localClaim, vips];
}

function containerRow(c: ContainerStatus): string[] {
  const docker = c.dockerUp === null ? 'not asked yet' : c.dockerUp ? 'up' : `unreachable (${c.dockerError ?? 'no detail'})`;
  const health = c.health === null ? '?' : c.healthWaiting === null ? c.health : `${c.health} (not evidence: ${c.healthWaiting})`;
  return [c.name, c.group, docker, c.state ?? '?', health];
}

function peerRow(p: PeerStatus): string[] {
  const flags = [p.standby === true ? 'standby' : null, p.maintenance === true ? 'maintenance' : null].filter((x) => x !== null);
  const state = flags.length === 0 ? p.state : `${p.state} (${flags.join(', ')})`;
  const health = p.healthy === null ? '?' : p.healthy ? 'healthy' : 'unhealthy';
  const paths = p.paths.map((x) => `${x.path} ${x.state} ${formatAgo(x.lastHeardAgoMs)}`).join(', ');
  return [p.node, state, formatAgo(p.lastHeardAgoMs), formatRtt(p.rttMs), health, paths || '-'];
}

function formatAgo(ms: number | null): string {
  if (ms === null) return 'never';
  if (ms < 1000) return `${Math.round(ms)} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  return `${Math.round(ms / 1000)} s ago`;
}

function formatRtt(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** Left-aligned columns two spaces apart; the last column is not padded. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
