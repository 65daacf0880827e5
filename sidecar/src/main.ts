#!/usr/bin/env node
/**
 * heartbeat-sidecar: the composition root, and the only place that reads process.env and argv.
 *
 *   config    → load the Heartbeat files or YAML, refuse to start on any problem
 *   transport → UDP sockets on every path
 *   resources → the VIP (ip), its announcement (arping), the notify hook
 *   containers→ only when a group names one: Docker (loaded lazily), its health and events
 *   runtime   → the engine's loop: heartbeats, election, acquire/release, reconcile
 *   quorum    → only with election: etcd: the etcd client (loaded lazily), the lease and its
 *               fence, candidacy; it grants the runtime each group it may hold
 *   health    → container state, the HTTP check → runtime health events
 *   api       → /status, /metrics, admin actions
 *   signals   → SIGTERM/SIGINT hand over through the planned-move path and exit 0; a fatal error
 *               hands over the same way and exits 1
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces, hostname } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildApi } from './api/server.js';
import { runCli } from './cli/index.js';
import { systemClock, systemTimers } from './clock.js';
import { configHash, loadConfig } from './config/load.js';
import { formatProblems } from './config/format.js';
import type { Config } from './config/types.js';
import type { ContainerSpec, GroupSpec } from './domain/groups.js';
import { createContainerResources } from './daemon/containers.js';
import { nextGeneration } from './daemon/generation.js';
import { openReplayStore } from './daemon/replay-store.js';
import type { ContainerStatus, ReloadStatus } from './daemon/status.js';
import { createQuorum, type Quorum } from './daemon/quorum.js';
import { restartOnlyChanges } from './daemon/restart-only.js';
import { createRuntime, type GroupResources } from './daemon/runtime.js';
import type { ElectionSpec } from './domain/election.js';
import { fenceTiming } from './domain/lease-timing.js';
import { createHealthMonitor, type HealthMonitor } from './health/monitor.js';
import { collectProcessMetrics, createMetrics, initContainerSeries, initHealthSeries, Registry, type Metrics } from './metrics/index.js';
import { createArpingAnnouncer } from './resources/announce.js';
import { spawnCommand, type RunCommand } from './resources/command.js';
import { createIpVipDriver } from './resources/ipaddr.js';
import { watchAddresses } from './resources/ip-monitor.js';
import { createIpSession } from './resources/ip-session.js';
import { spawnLineChild } from './resources/line-child.js';
import { createDockerContainerDriver, watchDockerEvents, type ContainerDriver, type ContainerStep, type DockerClient, type DockerWatch } from './resources/docker.js';
import { createNotifier } from './resources/notify.js';
import { createHealthGate, createOverrunWatch } from './transport/overrun.js';
import { createUdpTransport } from './transport/udp.js';
import { createLogThrottle } from './logging/throttle.js';
import { VERSION } from './version.js';

/** Where the boot generation is kept across restarts; a volume in compose. */
const STATE_DIR = process.env.HB_STATE_DIR ?? '/var/lib/heartbeat-sidecar';

/** Long enough for a release and a leave message; compose's stop_grace_period must exceed it. */
const SHUTDOWN_GRACE_MS = 5_000;
/** Kernel drops are read this often while every peer is heard on time, and on every tick while one is late. */
const OVERRUN_CALM_POLL_MS = 1_000;
/** How old the replay marks may be after a crash (daemon/replay-store.ts). */
const REPLAY_MARKS_WRITE_MS = 1_000;

interface Source {
  configPath: string | null;
  haDir: string;
}

async function load(source: Source) {
  const interfaces = Object.keys(networkInterfaces());
  return loadConfig({ configPath: source.configPath, haDir: source.haDir, env: process.env, hostname: hostname(), interfaces });
}

async function checkConfig(source: Source): Promise<{ ok: boolean; text: string }> {
  const result = await load(source);
  const warnings = result.warnings.length > 0 ? formatProblems(result.warnings) + '\n' : '';
  if (!result.ok) return { ok: false, text: warnings + formatProblems(result.problems) };
  return { ok: true, text: `${warnings}configuration OK (${result.config.source.files.join(', ')})` };
}

/** The Docker socket: DOCKER_HOST's unix:// path, else the usual one. */
function dockerSocket(): string {
  const host = process.env.DOCKER_HOST ?? '';
  if (host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${host}: only a unix:// socket is supported; mount the Docker socket and set DOCKER_HOST=unix:///var/run/docker.sock`);
}

/** The one real clock and timers, handed to every part that reads time or waits. */
const clock = systemClock;
const timers = systemTimers;

interface Protection {
  /** The runtime's GroupResources; undefined when no group names a container. */
  readonly resources: GroupResources | undefined;
  /** Starts the health monitors and Docker event watches, reporting the node's health. */
  start(onHealth: (healthy: boolean, reasons: readonly string[]) => void): void;
  stop(): void;
  /** Each protected container and this host's Docker, for /status. */
  containers(): ContainerStatus[];
}

/**
 * The protected containers and local health: one driver, monitor and event watch per group with
 * a container; the HTTP check and the ping nodes ride on the first of them (HTTP samples only
 * while that container runs), or have a monitor of their own when no group names a container. Dockerode costs ~28 MB,
 * so it is loaded only when some group names a container.
 */
async function protection(config: Config, run: RunCommand, metrics: Metrics, logger: pino.Logger): Promise<Protection> {
  const withContainer = config.groups.filter((g): g is GroupSpec & { container: ContainerSpec } => g.container != null);
  const http = config.health?.http ?? null;
  // Heartbeat's `ping` nodes: reaching none of them makes this node ineligible.
  const ping = config.pingNodes.length === 0 ? null : { nodes: config.pingNodes, intervalMs: Math.max(1_000, config.timing.keepaliveMs), rise: 2, fall: 3 };
  const monitors = new Map<string, HealthMonitor>();
  const verdicts = new Map<string, { healthy: boolean; reasons: readonly string[] }>();
  const watches: DockerWatch[] = [];
  const drivers = new Map<ContainerSpec, ContainerDriver>();
  let docker: DockerClient | null = null;
  if (withContainer.length > 0) {
    const { default: Dockerode } = await import('dockerode');
    const client: DockerClient = new Dockerode({ socketPath: dockerSocket() });
    docker = client;
    for (const g of withContainer) {
      const container = g.container.name;
      initContainerSeries(metrics, container);
      const onStep = (action: ContainerStep, ok: boolean, seconds: number): void => {
        metrics.containerActions.inc({ container, action, result: ok ? 'ok' : 'error' });
        metrics.containerActionDuration.observe({ container, action }, seconds);
      };
      drivers.set(g.container, createDockerContainerDriver(client, g.container, logger, { onStep, timers, now: clock.now }));
    }
  }
  const resources =
    docker === null
      ? undefined
      : createContainerResources(config.groups, (spec) => drivers.get(spec)!, logger, {
          onRole: (group, role) => monitors.get(group)?.setRole(role),
          unfit: () => [...verdicts.values()].some((v) => !v.healthy),
        });

  // fall 1: Docker's HEALTHCHECK verdict has already counted its own retries, and only a running
  // container is evidence at all (health/container.ts), so one unfit look is a real one.
  function monitor(key: string, container: ContainerSpec | null, withHttp: boolean, onHealth: (healthy: boolean, reasons: readonly string[]) => void): HealthMonitor {
    const m = createHealthMonitor({
      container: container === null ? null : { spec: { policy: container, intervalMs: 2_000, rise: 1, fall: 1 }, inspect: () => drivers.get(container)!.inspect(), probe: () => drivers.get(container)!.probe() },
      http: withHttp ? http : null,
      ping: withHttp ? ping : null,
      run,
      clock,
      timers,
      logger,
      onSample: (source, ok) => metrics.healthChecks.inc({ check: source, result: ok ? 'ok' : 'fail' }),
      ...(container === null ? {} : { onDocker: (up: boolean) => metrics.dockerUp.set({ container: container.name }, up ? 1 : 0) }),
      // The node is healthy when every monitor says so.
      onChange: (healthy, reasons) => {
        verdicts.set(key, { healthy, reasons });
        const all = [...verdicts.values()];
        onHealth(all.every((v) => v.healthy), all.flatMap((v) => v.reasons));
      },
    });
    monitors.set(key, m);
    return m;
  }

  initHealthSeries(metrics, [...(withContainer.length > 0 ? (['container'] as const) : []), ...(http !== null ? (['http'] as const) : []), ...(ping !== null ? (['ping'] as const) : [])]);
  return {
    resources,
    start(onHealth) {
      withContainer.forEach((g, i) => {
        const m = monitor(g.id, g.container, i === 0, onHealth);
        watches.push(watchDockerEvents(docker!, g.container, (ev) => m.dockerEvent(ev), logger, { timers }));
      });
      if (withContainer.length === 0 && (http !== null || ping !== null)) monitor('local', null, true, onHealth);
      for (const m of monitors.values()) m.start();
    },
    stop() {
      for (const w of watches.splice(0)) w.stop();
      for (const m of monitors.values()) m.stop();
    },
    containers() {
      return withContainer.map((g) => {
        const h = monitors.get(g.id)?.snapshot();
        return {
          group: g.id,
          name: g.container.name,
          dockerUp: h?.docker.up ?? null,
          dockerError: h?.docker.error ?? null,
          state: h?.container?.status ?? null,
          health: h?.container?.health ?? null,
          healthWaiting: h?.sources.find((s) => s.source === 'container')?.waiting ?? null,
        };
      });
    },
  };
}

/**
 * election: etcd's store: the etcd3 client and its gRPC stack (about as much memory as the rest
 * of the daemon) are loaded only here, so the heartbeat election never pays for them. Each call
 * must end within half a renewal period, so that a member that stopped answering cannot hold the
 * next renewal back.
 */
async function etcdStore(election: Extract<ElectionSpec, { backend: 'etcd' }>) {
  const { connectEtcdStore } = await import('./store/etcd.js');
  const file = (name: string | null | undefined) => (name == null ? Promise.resolve(null) : readFile(name));
  const tls = election.tls === null ? null : { ca: await file(election.tls.caFile), cert: await file(election.tls.certFile), key: await file(election.tls.keyFile) };
  const { renewEveryMs } = fenceTiming(election.leaseTtlSec);
  return connectEtcdStore({ endpoints: election.endpoints, prefix: election.prefix, tls, callTimeoutMs: Math.max(200, Math.floor(renewEveryMs / 2)), wallNow: clock.wallNow, watchRetryMs: Math.min(500, renewEveryMs) });
}

function ipv4Of(iface: string): { ipv4: string | null; broadcast: string | null } {
  const info = networkInterfaces()[iface]?.find((a) => a.family === 'IPv4');
  if (info === undefined) return { ipv4: null, broadcast: null };
  const addr = info.address.split('.').map(Number);
  const mask = info.netmask.split('.').map(Number);
  const broadcast = addr.map((b, i) => (b | (~mask[i]! & 255)) >>> 0).join('.');
  return { ipv4: info.address, broadcast };
}

async function runDaemon(source: Source): Promise<void> {
  const result = await load(source);
  if (!result.ok) {
    process.stderr.write(formatProblems([...result.warnings, ...result.problems]) + '\n');
    process.exitCode = 1;
    return;
  }
  const config: Config = result.config;
  const logger = pino(
    {
      level: config.log.level,
      base: { node: config.node },
      redact: { paths: ['secret', '*.secret', 'token', 'req.headers.authorization'], censor: '[redacted]' },
    },
    config.log.file === null ? pino.destination(1) : pino.multistream([{ stream: pino.destination(1) }, { stream: pino.destination(config.log.file) }]),
  );
  for (const w of result.warnings) logger.warn({ event: 'config-warning', ...w }, w.message);
  const boot = await nextGeneration(path.join(STATE_DIR, `generation-${config.node}`), clock.wallNow());
  if (boot.warning !== null) logger.warn({ event: 'generation' }, boot.warning);
  // What each peer last sent, kept across restarts so a restarted node is no easier to replay to.
  const replayStore = await openReplayStore({
    file: path.join(STATE_DIR, `replay-${config.node}.json`),
    timers,
    intervalMs: REPLAY_MARKS_WRITE_MS,
    onError: (err) => logger.warn({ event: 'replay-store', err }, 'cannot keep the replay marks; retrying'),
  });
  if (replayStore.warning !== null) logger.warn({ event: 'replay-store' }, replayStore.warning);

  const registry = new Registry();
  const metrics = createMetrics(registry, { version: VERSION, node: config.node });
  collectProcessMetrics(registry);
  // At most 16 children at once, so health probes or a notify storm never exhaust file descriptors.
  const run = spawnCommand(5_000, { onNotRun: (program) => metrics.commandsNotRun.inc({ program: path.basename(program) }) });
  const protect = await protection(config, run, metrics, logger);
  // Bound once the runtime exists: the quorum grants the runtime's engine, the runtime asks the
  // quorum how long a VIP may live.
  let quorum: Quorum | null = null;
  const election = config.election;
  const udpTransport = (c: Config) => createUdpTransport({ paths: c.paths, port: c.port, localAddresses: ipv4Of, logger: logger.child({ component: 'transport' }) });
  const runtime = createRuntime({
    config,
    configHash: configHash(config),
    generation: boot.generation,
    transport: udpTransport(config),
    transportFor: udpTransport,
    replay: replayStore.guard,
    // One `ip` that stays for the VIP changes and one that reports the kernel's address events:
    // the idle daemon spawns no process (each falls back to spawning while it is down).
    vips: createIpVipDriver(run, (file, value) => writeFile(file, value), createIpSession({ start: spawnLineChild, clock, timers, logger })),
    addresses: watchAddresses({ start: spawnLineChild, clock, timers, logger }),
    announcer: createArpingAnnouncer(run),
    notifier: createNotifier(config.notifyCommand, process.env, logger),
    metrics,
    logger,
    clock,
    timers,
    resources: protect.resources,
    containers: () => protect.containers(),
    // A late peer is when drops on the heartbeat sockets matter: judge them at once.
    onPeerLate: () => overrun.poll(),
    ...(election.backend === 'etcd'
      ? {
          vipLeaseCapSec: () => quorum?.vipLeaseCapSec() ?? 0,
          onClaim: (group: string) => quorum?.claimChanged(group),
          election: () => quorum!.status(),
        }
      : {}),
  });
  if (election.backend === 'etcd') {
    quorum = createQuorum({
      store: await etcdStore(election),
      node: config.node,
      priority: config.nodes.find((n) => n.name === config.node)?.priority ?? 0,
      groups: config.groups,
      autoFailback: config.autoFailback,
      leaseTtlSec: election.leaseTtlSec,
      onStoreLost: election.onStoreLost,
      vipLeaseSec: config.vipLeaseSec,
      claimOf: (group) => runtime.claimOf(group),
      grant: (group, authority) => runtime.command({ type: 'authority', group, authority }),
      clock,
      timers,
      logger,
    });
  }
  /** An operator's word or a health verdict: the engine's, and with etcd, the candidacy's too. */
  const operate = (event: { type: 'standby' } | { type: 'takeover' } | { type: 'maintenance'; enabled: boolean } | { type: 'health'; healthy: boolean; reasons: readonly string[] }) => {
    runtime.command(event);
    quorum?.command(event);
  };
  const adminToken = config.api.tokenFile === null ? null : (await readFile(config.api.tokenFile, 'utf8')).trim();
  const api = buildApi({
    status: () => runtime.snapshot(),
    registry,
    admin: {
      standby: () => operate({ type: 'standby' }),
      takeover: () => operate({ type: 'takeover' }),
      maintenance: (enabled) => operate({ type: 'maintenance', enabled }),
      reload: () => reload('api'),
    },
    adminToken,
    logger: logger.child({ component: 'api' }),
    onRefused: (reason) => metrics.apiRefused.inc({ reason }),
    onSuppressed: () => metrics.logLinesSuppressed.inc({ component: 'api' }),
  });

  let stopping: Promise<void> | null = null;
  /**
   * A signal hands over and exits 0. A fatal error (an exception nothing caught, a rejection
   * nobody awaited: the process state is no longer known) hands over the same way and exits 1,
   * so a supervisor sees a failure and restarts it. The API's connections go first: they may be
   * what exhausted the file descriptors the release needs to run `ip`. Should the release still
   * fail, the VIP's kernel lease removes it within vip_lease; a hard deadline ends the process
   * even if the handover hangs.
   */
  const shutdown = (why: string, err?: unknown): Promise<void> => {
    stopping ??= (async () => {
      const fatal = err !== undefined;
      const code = fatal ? 1 : 0;
      timers.setTimeout(() => {
        logger.fatal({ event: 'exit-deadline', graceMs: SHUTDOWN_GRACE_MS }, 'handover did not finish in time; exiting, the VIP lease ends the rest');
        logger.flush();
        process.exit(code === 0 ? 1 : code);
      }, SHUTDOWN_GRACE_MS + 2_000);
      if (fatal) {
        logger.fatal({ err, event: 'fatal' }, `fatal error: ${why}; handing over before exit`);
        api.server.closeAllConnections();
      } else logger.info({ event: 'signal', signal: why }, `${why}: handing over`);
      try {
        const { vipsGone } = await runtime.stop(SHUTDOWN_GRACE_MS);
        // After the release: revoking the lease deletes our keys, and the next holder campaigns;
        // with a VIP perhaps still here, the lease must run out instead, after the VIP's own.
        await quorum?.stop({ revoke: vipsGone });
        replayStore.stop();
      } catch (stopErr) {
        logger.fatal({ err: stopErr, event: 'stop-failed' }, 'handover failed; the VIP lease ends the rest');
      }
      protect.stop();
      await api.close().catch(() => undefined);
      logger.flush();
      process.exit(code);
    })();
    return stopping;
  };
  /**
   * The recipe's `service heartbeat reload`: read the files again; refuse a config with problems
   * and run on, or apply a valid one in place. What was read at start only (the API, logging,
   * health checks and protected containers) is named as waiting for a restart.
   */
  let running = config;
  // Health as the engine sees it: the monitors' verdict, and no new claims while the heartbeat
  // sockets are overrun (transport/overrun.ts).
  const gate = createHealthGate(
    (healthy, reasons) => operate({ type: 'health', healthy, reasons }),
    () => runtime.snapshot().groups.some((g) => g.localClaim !== 'none'),
  );
  const dropLog = createLogThrottle({ windowMs: 10_000, now: clock.now, onSuppressed: () => metrics.logLinesSuppressed.inc({ component: 'transport' }) });
  const overrun = createOverrunWatch({
    read: () => readFileSync('/proc/self/net/udp', 'utf8'),
    port: () => running.port,
    now: clock.now,
    timers,
    intervalMs: OVERRUN_CALM_POLL_MS,
    quietMs: () => running.timing.deadtimeMs + 200,
    onDrops: (socket, total) => metrics.socketDrops.set({ socket }, total),
    onVerdict: (reason, dropped) => {
      metrics.socketOverrun.set(reason === null ? 0 : 1);
      if (dropped > 0 && dropLog.admit('drops').log) logger.warn({ event: 'socket-overrun', dropped }, `the kernel dropped ${dropped} datagrams on the heartbeat sockets (a flood?): peer silence does not count while it lasts, and nothing new is claimed`);
      gate.overrun(reason);
      // per group, too: a node that holds one group must not take another it cannot hear
      runtime.command({ type: 'overrun', active: reason !== null });
    },
  });
  const reload = async (trigger: string) => {
    const next = await load(source);
    if (!next.ok) return runtime.refuseReload(trigger, formatProblems([...next.problems]).split('\n'));
    for (const w of next.warnings) logger.warn({ event: 'config-warning', ...w }, w.message);
    let outcome: ReloadStatus;
    try {
      outcome = await runtime.reload(next.config, configHash(next.config), { trigger, restartOnly: restartOnlyChanges(config, next.config) });
    } catch (err) {
      // The heartbeat socket is lost: hand over and exit, rather than hold VIPs unheard.
      void shutdown('the reload lost the heartbeat socket', err);
      throw err;
    }
    if (outcome.result === 'applied' && !outcome.restart.includes('node')) running = next.config;
    return outcome;
  };
  // A SIGHUP during start (whose default would end the process) waits for the start to finish.
  let started: () => void = () => {};
  const startedUp = new Promise<void>((resolve) => (started = resolve));
  process.on('SIGHUP', () => void startedUp.then(() => reload('SIGHUP')).catch(() => {}));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('uncaughtException', (err) => void shutdown('uncaughtException', err));
  process.on('unhandledRejection', (err) => void shutdown('unhandledRejection', err ?? new Error('a promise was rejected without a reason')));

  // The API first: starting it keeps the event loop busy for some 35 ms, and once the runtime
  // has joined, a holder that hears us hands over at once and waits on our answer (failback).
  await api.listen({ host: config.api.host, port: config.api.port });
  await runtime.start();
  quorum?.start();
  replayStore.start();
  overrun.start();
  protect.start((healthy, reasons) => gate.health(healthy, reasons));
  started();
}

const code = await runCli(process.argv, process.env, { runDaemon, checkConfig });
if (code !== 0) process.exitCode = code;
