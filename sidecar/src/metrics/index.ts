/**
 * Every Prometheus metric the daemon exports, registered on the registry it is given (one per
 * process, made in main.ts) so two daemons can run in one test process without colliding.
 *
 * Naming follows the Prometheus conventions: the `heartbeat_` prefix, base units (seconds),
 * `_total` on counters, and help texts that say what a value means, not how it is computed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from './prom.js';
import type { Claim } from '../domain/claims.js';
import { REFUSAL_REASONS } from '../domain/refusals.js';
import type { HealthSource } from '../health/monitor.js';
import type { ContainerStep } from '../resources/docker.js';
import { REJECT_REASONS } from '../wire/types.js';

/** Round trips on a LAN or between racks: 100 µs to 1 s. */
const RTT_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** `ip addr add` plus the first GARP take milliseconds; the tail shows retries of a failing `ip`. */
const TAKEOVER_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** From "on time" to a stall past the largest deadtime anyone configures. */
const LATENESS_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Docker unpause is milliseconds; start and restart wait for the process, and sometimes stop timeouts. */
const CONTAINER_ACTION_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export { Registry };

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

export function createMetrics(registry: Registry, build: BuildInfo) {
  const registers = [registry];
  const metrics = {
    buildInfo: new Gauge({
      name: 'heartbeat_build_info',
      help: 'Always 1; the labels name the heartbeat-sidecar version and this node.',
      labelNames: ['version', 'node'] as const,
      registers,
    }),
    configInfo: new Gauge({
      name: 'heartbeat_config_info',
      help: 'Always 1; the hash label identifies the settings every node must share (no function of a secret): nodes of one cluster showing different hashes run different configurations.',
      labelNames: ['hash'] as const,
      registers,
    }),

    groupHeld: new Gauge({
      name: 'heartbeat_group_held',
      help: '1 while this node holds the resource group (its VIPs are assigned here), else 0.',
      labelNames: ['group'] as const,
      registers,
    }),
    groupClaim: new Gauge({
      name: 'heartbeat_group_claim',
      help: "1 for this node's current claim on the resource group (none, acquiring, held, releasing), 0 for the others.",
      labelNames: ['group', 'claim'] as const,
      registers,
    }),
    transitions: new Counter({
      name: 'heartbeat_transitions_total',
      help: "Changes of this node's claim on a resource group, by old and new claim and the kind of reason.",
      labelNames: ['group', 'from', 'to', 'reason'] as const,
      registers,
    }),

    heartbeatsSent: new Counter({
      name: 'heartbeat_heartbeats_sent_total',
      help: 'Datagrams (heartbeats and release, takeover and leave messages) this node sent, by path.',
      labelNames: ['path'] as const,
      registers,
    }),
    heartbeatsReceived: new Counter({
      name: 'heartbeat_heartbeats_received_total',
      help: 'Authenticated, new datagrams accepted from a peer, by peer and path.',
      labelNames: ['peer', 'path'] as const,
      registers,
    }),
    heartbeatsLate: new Counter({
      name: 'heartbeat_heartbeats_late_total',
      help: "Times a peer's heartbeat on a path arrived later than warntime (Heartbeat's \"late heartbeat\" warning).",
      labelNames: ['peer', 'path'] as const,
      registers,
    }),
    peerUp: new Gauge({
      name: 'heartbeat_peer_up',
      help: '1 while the peer is heard on at least one path within deadtime, 0 when it is dead, gone or not yet heard.',
      labelNames: ['peer'] as const,
      registers,
    }),
    peerLastHeard: new Gauge({
      name: 'heartbeat_peer_last_heard_seconds',
      help: 'Seconds since the last accepted datagram from the peer on any path (an age, not a timestamp).',
      labelNames: ['peer'] as const,
      registers,
    }),
    peerRtt: new Histogram({
      name: 'heartbeat_peer_rtt_seconds',
      help: 'Round-trip time to the peer, measured from the timestamp it echoes back in its heartbeats.',
      labelNames: ['peer'] as const,
      buckets: RTT_BUCKETS_SECONDS,
      registers,
    }),
    datagramsRejected: new Counter({
      name: 'heartbeat_datagrams_rejected_total',
      help: 'Received datagrams dropped without effect, by reason (malformed, bad MAC, replay, unknown node, ...).',
      labelNames: ['reason'] as const,
      registers,
    }),
    sendErrors: new Counter({
      name: 'heartbeat_send_errors_total',
      help: 'Datagrams the kernel refused to send, by path.',
      labelNames: ['path'] as const,
      registers,
    }),

    vipPresent: new Gauge({
      name: 'heartbeat_vip_present',
      help: "1 while the VIP is assigned to this host's interface, as last read with `ip -j addr`, else 0.",
      labelNames: ['group', 'address'] as const,
      registers,
    }),
    garpSent: new Counter({
      name: 'heartbeat_garp_sent_total',
      help: 'Gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6) packets sent for the VIP.',
      labelNames: ['address'] as const,
      registers,
    }),
    garpFailed: new Counter({
      name: 'heartbeat_garp_failed_total',
      help: 'Announcements of the VIP (arping or NA) that failed; neighbours may keep the old MAC until their cache expires.',
      labelNames: ['address'] as const,
      registers,
    }),
    ipCommandFailures: new Counter({
      name: 'heartbeat_ip_command_failures_total',
      help: 'Failed `ip` commands, by operation (assign, remove, renew, list); each is retried.',
      labelNames: ['operation'] as const,
      registers,
    }),
    takeoverDuration: new Histogram({
      name: 'heartbeat_takeover_duration_seconds',
      help: 'Time from the decision to acquire a resource group to its VIPs being up on this host.',
      buckets: TAKEOVER_BUCKETS_SECONDS,
      registers,
    }),

    timerLateness: new Histogram({
      name: 'heartbeat_timer_lateness_seconds',
      help: "How late the daemon's tick fired; large values mean a blocked event loop, a paused VM or SIGSTOP.",
      buckets: LATENESS_BUCKETS_SECONDS,
      registers,
    }),
    timerStalls: new Counter({
      name: 'heartbeat_timer_stalls_total',
      help: 'Ticks that fired later than deadtime; each makes this node stop claiming and re-check its peers.',
      registers,
    }),

    healthy: new Gauge({
      name: 'heartbeat_healthy',
      help: '1 while local health (protected container, HTTP check, ping nodes) allows this node to hold resources, else 0.',
      registers,
    }),
    healthChecks: new Counter({
      name: 'heartbeat_health_checks_total',
      help: 'Local health-check runs, by check and result.',
      labelNames: ['check', 'result'] as const,
      registers,
    }),
    dockerUp: new Gauge({
      name: 'heartbeat_docker_up',
      help: "1 while this host's Docker engine answers about the protected container, 0 while it is unreachable.",
      labelNames: ['container'] as const,
      registers,
    }),
    configReloads: new Counter({
      name: 'heartbeat_config_reloads_total',
      help: 'Configuration reloads (SIGHUP or `heartbeat-sidecar reload`), by result: applied, or refused for problems (the daemon runs on as before).',
      labelNames: ['result'] as const,
      registers,
    }),
    containerActions: new Counter({
      name: 'heartbeat_container_actions_total',
      help: 'Docker actions on the protected container (start, stop, pause, unpause, restart), by container, action and result.',
      labelNames: ['container', 'action', 'result'] as const,
      registers,
    }),
    containerActionDuration: new Histogram({
      name: 'heartbeat_container_action_duration_seconds',
      help: 'Time a Docker action on the protected container took, success or not.',
      labelNames: ['container', 'action'] as const,
      buckets: CONTAINER_ACTION_BUCKETS_SECONDS,
      registers,
    }),
    commandsNotRun: new Counter({
      name: 'heartbeat_commands_not_run_total',
      help: 'Programs (ip, arping, ping, notify) that could not be started: spawn failed (EMFILE, ENOENT) or too many were already waiting.',
      labelNames: ['program'] as const,
      registers,
    }),
    apiRefused: new Counter({
      name: 'heartbeat_api_refused_total',
      help: 'HTTP requests the API refused, by reason (not-found, unauthorized, bad-request, too-large, timeout, connection-limit).',
      labelNames: ['reason'] as const,
      registers,
    }),
    logLinesSuppressed: new Counter({
      name: 'heartbeat_log_lines_suppressed_total',
      help: 'Log lines about refused requests or datagrams left out by the per-reason rate limit, by component.',
      labelNames: ['component'] as const,
      registers,
    }),
    socketDrops: new Gauge({
      name: 'heartbeat_socket_drops',
      help: 'Datagrams the kernel dropped on a heartbeat socket because its receive buffer was full (the drops column of /proc/net/udp), by socket address:port; any rise means heartbeats may have been lost.',
      labelNames: ['socket'] as const,
      registers,
    }),
    socketOverrun: new Gauge({
      name: 'heartbeat_socket_overrun',
      help: "1 while a heartbeat socket has dropped datagrams within the last deadtime: this node's view of peer silence is not trusted and it claims nothing new.",
      registers,
    }),
  };

  metrics.buildInfo.set({ version: build.version, node: build.node }, 1);
  // A series that appears only on the first event defeats `rate()` and `increase()` alerts (and
  // the dashboard's panels), so every label value known without the config is exported as 0 from
  // the start; those that depend on it are set by initGroupSeries, initPeerSeries and friends.
  for (const reason of REJECT_REASONS) metrics.datagramsRejected.inc({ reason }, 0);
  for (const operation of IP_OPERATIONS) metrics.ipCommandFailures.inc({ operation }, 0);
  for (const result of ['applied', 'refused']) metrics.configReloads.inc({ result }, 0);
  for (const reason of REFUSAL_REASONS) metrics.apiRefused.inc({ reason }, 0);
  for (const component of ['api', 'transport']) metrics.logLinesSuppressed.inc({ component }, 0);
  for (const program of ['ip', 'arping', 'ping']) metrics.commandsNotRun.inc({ program }, 0);
  // The engine starts healthy and only a failing check lowers it; 0 here would read as "unhealthy".
  metrics.healthy.set(1);
  metrics.socketOverrun.set(0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

const EVENT_LOOP_SAMPLE_MS = 1_000;

/**
 * The process's own health: CPU, resident memory, open file descriptors, heap, GC and event-loop
 * lag (`process_*`, `nodejs_*`), on the same registry. Kept apart from createMetrics because it
 * starts an event-loop delay monitor, which the daemon wants once and unit tests rarely.
 */
export function collectProcessMetrics(registry: Registry): void {
  // The delay monitor samples the loop on a timer of its own: at prom-client's default of 10 ms
  // that was a hundred wake-ups a second, most of an idle daemon's. Once a second still shows a
  // stalled loop; heartbeat_timer_lateness_seconds measures the lateness that decides failovers.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  // Gauges named like counters, which `promtool check metrics` rejects; nodejs_active_handles,
  // _requests and _resources (by type) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
}

/** The hash of the configuration in force; a reload replaces the series rather than adding one. */
export function setConfigInfo(metrics: Metrics, hash: string): void {
  metrics.configInfo.reset();
  metrics.configInfo.set({ hash }, 1);
}

const IP_OPERATIONS = ['assign', 'remove', 'renew', 'list'] as const;

const ACQUIRE_REASONS = ['elected', 'peer-left', 'peer-dead', 'handover'] as const;
const RELEASE_REASONS = ['shutdown', 'maintenance', 'unhealthy', 'unheard-by', 'split-brain', 'standby', 'takeover', 'failback', 'outranked', 'stall', 'removed'] as const;

/**
 * Every claim change the engine makes, as `heartbeat_transitions_total` labels it (from, to and
 * the reason's kind, the part before any `:node`): engine.ts's setClaim, startRelease,
 * acquireReason and releaseReason. metrics.test.ts checks this against engine.ts.
 */
export const TRANSITION_SERIES: readonly { readonly from: Claim; readonly to: Claim; readonly reason: string }[] = [
  ...ACQUIRE_REASONS.map((reason) => ({ from: 'none' as const, to: 'acquiring' as const, reason })),
  { from: 'acquiring', to: 'held', reason: 'acquired' },
  { from: 'acquiring', to: 'none', reason: 'contended' },
  { from: 'acquiring', to: 'none', reason: 'removed' },
  ...RELEASE_REASONS.flatMap((reason) => (['acquiring', 'held'] as const).map((from) => ({ from, to: 'releasing' as const, reason }))),
  { from: 'releasing', to: 'none', reason: 'released' },
];

/** A resource group's series at 0: its transitions and its VIPs' announcements. */
export function initGroupSeries(metrics: Metrics, group: { readonly id: string; readonly vips: readonly { readonly address: string }[] }): void {
  for (const t of TRANSITION_SERIES) metrics.transitions.inc({ group: group.id, ...t }, 0);
  for (const v of group.vips) {
    metrics.garpSent.inc({ address: v.address }, 0);
    metrics.garpFailed.inc({ address: v.address }, 0);
  }
}

/** Each path's and each peer's series at 0 (not the last-heard age: 0 there would mean "just now"). */
export function initPeerSeries(metrics: Metrics, peers: readonly string[], paths: readonly string[]): void {
  for (const path of paths) {
    metrics.heartbeatsSent.inc({ path }, 0);
    metrics.sendErrors.inc({ path }, 0);
    for (const peer of peers) {
      metrics.heartbeatsReceived.inc({ peer, path }, 0);
      metrics.heartbeatsLate.inc({ peer, path }, 0);
    }
  }
  for (const peer of peers) metrics.peerRtt.zero({ peer });
}

const CONTAINER_STEPS = ['start', 'unpause', 'restart', 'pause', 'stop'] as const satisfies readonly ContainerStep[];

/** A protected container's action series at 0 (Docker reachability is set at the first answer). */
export function initContainerSeries(metrics: Metrics, container: string): void {
  for (const action of CONTAINER_STEPS) {
    for (const result of ['ok', 'error']) metrics.containerActions.inc({ container, action, result }, 0);
    metrics.containerActionDuration.zero({ container, action });
  }
}

/** The configured health checks' series at 0. */
export function initHealthSeries(metrics: Metrics, checks: readonly HealthSource[]): void {
  for (const check of checks) for (const result of ['ok', 'fail']) metrics.healthChecks.inc({ check, result }, 0);
}
