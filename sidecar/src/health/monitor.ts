/**
 * Local health: combines the protected container (Docker state, HEALTHCHECK and events), an
 * optional HTTP check and the ping nodes into one verdict for the engine, `healthy` plus the
 * reasons, reported through `onChange` whenever either changes. Each source has its own rise/fall
 * hysteresis; the node is healthy when no source is down.
 *
 * Sources:
 * - container: inspected every `intervalMs` and at once on each Docker event about it. Judged by
 *   role (see `judgeContainer`): only a running container is evidence, so a verdict of unfit
 *   stands until the container has been seen running and healthy again, and a standby's paused
 *   container neither proves nor disproves anything. Docker's HEALTHCHECK verdict carried over a
 *   pause is no evidence either (`HealthFreshness`). While an acquire or release is applied (role
 *   `transition`) there is no judgement. When Docker is
 *   unreachable there is no sample: the container keeps running without dockerd (live-restore,
 *   or a crashed dockerd), so the last verdict stands unless `unhealthyWhenDockerDown` is set.
 * - http: a GET every `intervalMs`. It samples only while the container runs (a paused
 *   container cannot answer), so a verdict earned while holding sticks after the release; a bad
 *   one that can no longer be re-checked is forgotten after `failureTimeoutMs`, so a failure does
 *   not cost the pair its redundancy for ever (Pacemaker's failure-timeout).
 * - ping: every ping node once every `intervalMs`, spread evenly over it (a long list never
 *   spawns all its pings at once); one sample per round, reachable when any node answered.
 *
 * Time and timers are injected; nothing here reads the wall clock or sleeps.
 */
import type { Logger } from 'pino';
import type { Clock, Timers } from '../clock.js';
import type { RunCommand } from '../resources/command.js';
import { isDockerUnavailable, type ContainerState, type DockerWatchEvent, type ProbeResult } from '../resources/docker.js';
import type { ContainerPolicy } from '../domain/groups.js';
import { HealthFreshness, judgeContainer, type NodeRole } from './container.js';
import { Hysteresis, type Verdict } from './hysteresis.js';
import { httpGet, httpSample, pingOnce, pingRoundSample, type FetchLike, type HttpCheckSpec, type PingSpec, type Sample } from './probes.js';

export type { NodeRole } from './container.js';
export type { HttpCheckSpec, PingSpec } from './probes.js';

export interface ContainerCheckSpec {
  readonly policy: Pick<ContainerPolicy, 'name' | 'onAcquire' | 'onRelease'>;
  /** How often to inspect besides on events (default 2 s). */
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
  /** Count "Docker unreachable" as unhealthy (default false: the container may well be serving). */
  readonly unhealthyWhenDockerDown?: boolean;
}

export type HealthSource = 'container' | 'http' | 'ping';

export interface SourceStatus {
  readonly source: HealthSource;
  readonly verdict: Verdict;
  /** The reasons of the latest bad sample while the verdict is down; empty otherwise. */
  readonly reasons: readonly string[];
  /** Monotonic ms of the latest sample; null before the first. */
  readonly lastSampleAt: number | null;
  /** Why the latest look gave no evidence (a paused standby, a stale HEALTHCHECK verdict); null when it did. */
  readonly waiting: string | null;
}

export interface HealthSnapshot {
  readonly healthy: boolean;
  readonly reasons: readonly string[];
  readonly role: NodeRole;
  /** null until Docker has been asked; false while it is unreachable. */
  readonly docker: { readonly up: boolean | null; readonly error: string | null; readonly since: number | null };
  readonly container: ContainerState | null;
  readonly sources: readonly SourceStatus[];
}

export interface HealthMonitorDeps {
  readonly container?: {
    readonly spec: ContainerCheckSpec;
    readonly inspect: () => Promise<ContainerState>;
    /** Runs the container's own HEALTHCHECK now (resources/docker.ts `probe`), for when Docker's verdict is stale. */
    readonly probe?: () => Promise<ProbeResult | null>;
  } | null;
  readonly http?: HttpCheckSpec | null;
  readonly ping?: PingSpec | null;
  /** Runs `ping`; required when ping nodes are configured. */
  readonly run?: RunCommand;
  readonly fetch?: FetchLike;
  readonly clock: Pick<Clock, 'now'>;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Every change of the verdict or its reasons. Feed it to the engine as a `health` event. */
  readonly onChange: (healthy: boolean, reasons: readonly string[]) => void;
  /** Every change of Docker's reachability, for /status and metrics. */
  readonly onDocker?: (up: boolean, error: string | null) => void;
  /** Every sample, for metrics (health-check results by source). */
  readonly onSample?: (source: HealthSource, ok: boolean) => void;
  /** A bad HTTP verdict that cannot be re-checked is forgotten after this long (default 60 s; 0: never). */
  readonly failureTimeoutMs?: number;
}

export interface HealthMonitor {
  start(): void;
  stop(): void;
  /** The node's role: `transition` from the start of an acquire or release until it is applied. */
  setRole(role: NodeRole): void;
  /** Feed watchDockerEvents' events here. */
  dockerEvent(event: DockerWatchEvent): void;
  snapshot(): HealthSnapshot;
}

interface Source {
  readonly name: HealthSource;
  readonly hysteresis: Hysteresis;
  reasons: readonly string[];
  lastSampleAt: number | null;
  lastBadAt: number | null;
  waiting: string | null;
}


export function createHealthMonitor(deps: HealthMonitorDeps): HealthMonitor {
  const { clock, timers, onChange } = deps;
  const log = deps.logger.child({ component: 'health' });
  const containerCheck = deps.container ?? null;
  const http = deps.http ?? null;
  const ping = deps.ping !== null && deps.ping !== undefined && deps.ping.nodes.length > 0 ? deps.ping : null;
  if (ping !== null && deps.run === undefined) throw new Error('createHealthMonitor: ping nodes need a RunCommand');
  const fetchFn = deps.fetch ?? httpGet;
  const failureTimeoutMs = deps.failureTimeoutMs ?? 60_000;

  const sources = new Map<HealthSource, Source>();
  const addSource = (name: HealthSource, rise: number, fall: number): void =>
    void sources.set(name, { name, hysteresis: new Hysteresis(rise, fall), reasons: [], lastSampleAt: null, lastBadAt: null, waiting: null });
  if (containerCheck !== null) addSource('container', containerCheck.spec.rise, containerCheck.spec.fall);
  if (http !== null) addSource('http', http.rise, http.fall);
  if (ping !== null) addSource('ping', ping.rise, ping.fall);

  let role: NodeRole = 'standby';
  /** Bumped on every role change: a sample taken under the old role is not judged by the new one. */
  let roleEpoch = 0;
  let container: ContainerState | null = null;
  const freshness = new HealthFreshness();
  let staleHealth = false;
  /** When Docker's last probe end was first seen to change: a verdict Docker stopped renewing is stale too. */
  let probeEndSeen: { end: string | null; at: number } | null = null;
  /** Our own runs of the container's HEALTHCHECK while Docker's verdict is stale or not yet given. */
  const own = { probing: false, lastAt: null as number | null, failures: 0 };
  /** The last "no evidence" reason logged, so each is logged once, not at every inspect. */
  let loggedWaiting: string | null = null;
  let docker: { up: boolean | null; error: string | null; since: number | null } = { up: null, error: null, since: null };
  let reported: { healthy: boolean; key: string } = { healthy: true, key: '' };
  const handles: unknown[] = [];
  let running = false;
  let inspecting = false;
  let inspectAgain = false;
  let httpBusy = false;
  /** The next ping node, the round it belongs to, each unfinished round's tally, and the nodes being pinged. */
  const pings = { next: 0, round: 0, rounds: new Map<number, { done: number; answered: boolean }>(), out: new Set<string>() };
  /** Pings at once at most: ping nodes that do not answer must not fill the command slots `ip` needs. */
  const MAX_PINGS_OUT = 4;

  function record(name: HealthSource, sample: Sample | { ok: false; reasons: readonly string[] }): void {
    const s = sources.get(name)!;
    const reasons = 'reasons' in sample ? sample.reasons : sample.ok ? [] : [sample.reason];
    s.lastSampleAt = clock.now();
    s.waiting = null;
    if (!sample.ok) {
      s.lastBadAt = clock.now();
      s.reasons = reasons;
    }
    const changed = s.hysteresis.push(sample.ok);
    if (changed) log.info({ event: 'health-source', source: name, verdict: s.hysteresis.verdict, reasons: s.reasons }, `${name} check ${s.hysteresis.verdict}`);
    deps.onSample?.(name, sample.ok);
    publish();
  }

  function verdictOf(s: Source): Verdict {
    return s.hysteresis.verdict;
  }

  function evaluate(): { healthy: boolean; reasons: string[] } {
    const reasons: string[] = [];
    for (const s of sources.values()) if (verdictOf(s) === 'down') reasons.push(...s.reasons);
    return { healthy: ![...sources.values()].some((s) => verdictOf(s) === 'down'), reasons };
  }

  function publish(): void {
    const { healthy, reasons } = evaluate();
    const key = reasons.join('\n');
    if (healthy === reported.healthy && key === reported.key) return;
    reported = { healthy, key };
    log.info({ event: 'health', healthy, reasons }, healthy ? 'healthy' : `unhealthy: ${reasons.join('; ')}`);
    onChange(healthy, reasons);
  }

  function setDocker(up: boolean, error: string | null): void {
    if (docker.up === up && docker.error === error) return;
    const changed = docker.up !== up;
    docker = { up, error, since: changed ? clock.now() : docker.since };
    if (changed) deps.onDocker?.(up, error);
  }

  // ---- container -------------------------------------------------------------------------------

  /**
   * Docker renews its verdict every interval; one it has not renewed for an interval and a timeout
   * more is not being renewed at all (Docker before 23 stops probing live-restored containers).
   */
  function dockerProbeOverdue(c: ContainerState): boolean {
    if (c.status !== 'running' || c.healthcheck === null || probeEndSeen === null) return false;
    return clock.now() - probeEndSeen.at > c.healthcheck.intervalMs + c.healthcheck.timeoutMs + containerCheck!.spec.intervalMs;
  }

  function judgeAndRecord(): void {
    if (containerCheck === null || container === null) return;
    const overdue = dockerProbeOverdue(container);
    const judgement = judgeContainer(container, role, containerCheck.spec.policy, staleHealth || overdue);
    if (!judgement.evidence) {
      const s = sources.get('container')!;
      const why = overdue && !staleHealth ? `Docker has not run the HEALTHCHECK of ${container.name ?? 'the container'} for over ${Math.round((container.healthcheck!.intervalMs + container.healthcheck!.timeoutMs) / 1000)} s` : judgement.why;
      if (role !== 'transition' && loggedWaiting !== why) log.info({ event: 'health-source', source: 'container', verdict: s.hysteresis.verdict, waiting: why }, `container check: no evidence from Docker (${why})`);
      loggedWaiting = why;
      s.waiting = why;
      probeOurselves(container);
      return;
    }
    own.failures = 0;
    own.lastAt = null;
    loggedWaiting = null;
    const { reasons } = judgement;
    record('container', reasons.length === 0 ? { ok: true, reason: '' } : { ok: false, reasons });
  }

  /**
   * While Docker's verdict is stale, overdue or still `starting`, run the container's HEALTHCHECK
   * ourselves, at once and then every interval, and judge by Docker's own rule: one success is
   * healthy, `retries` failures in a row unhealthy (failures while starting do not count, as in
   * Docker's start period). This is what lets a standby that just took over be judged by a fresh
   * probe rather than by a verdict from before its pause.
   */
  function probeOurselves(c: ContainerState): void {
    const probe = containerCheck?.probe;
    if (probe === undefined || role === 'transition' || c.status !== 'running' || c.healthcheck === null || own.probing) return;
    if (own.lastAt !== null && clock.now() - own.lastAt < c.healthcheck.intervalMs) return;
    const spec = c.healthcheck;
    const starting = c.health === 'starting';
    const epoch = roleEpoch;
    own.probing = true;
    own.lastAt = clock.now();
    void probe()
      .then((result) => {
        if (result === null || !running || epoch !== roleEpoch) return;
        if (result.ok) {
          own.failures = 0;
          record('container', { ok: true, reason: '' });
        } else if (!starting && ++own.failures >= spec.retries) {
          record('container', { ok: false, reasons: [`container ${c.name ?? containerCheck!.spec.policy.name} unhealthy (its HEALTHCHECK, run by heartbeat-sidecar, failed ${own.failures} times)${result.output ? `: ${result.output}` : ''}`] });
        } else {
          deps.onSample?.('container', false);
        }
      })
      .catch((err: unknown) => log.warn({ err }, 'cannot run the container HEALTHCHECK'))
      .finally(() => (own.probing = false));
  }

  /** One inspect at a time; events during one ask for exactly one more. */
  async function inspectNow(): Promise<void> {
    if (containerCheck === null || !running) return;
    if (inspecting) {
      inspectAgain = true;
      return;
    }
    inspecting = true;
    try {
      do {
        inspectAgain = false;
        const epoch = roleEpoch;
        try {
          container = await containerCheck.inspect();
          staleHealth = freshness.observe(container);
          if (probeEndSeen === null || probeEndSeen.end !== container.healthCheckedAt || container.status !== 'running') probeEndSeen = { end: container.healthCheckedAt, at: clock.now() };
          if (container.status !== 'running') own.lastAt = null;
          setDocker(true, null);
          if (epoch === roleEpoch) judgeAndRecord();
          else inspectAgain = true;
        } catch (err) {
          if (isDockerUnavailable(err)) {
            setDocker(false, (err as Error).message);
            if (containerCheck.spec.unhealthyWhenDockerDown && role !== 'transition') record('container', { ok: false, reason: `docker unreachable: ${(err as Error).message}` });
          } else {
            // Docker answered but could not say (ambiguous name, API error): not fit to serve.
            log.warn({ err }, 'cannot inspect the protected container');
            if (role !== 'transition') record('container', { ok: false, reason: (err as Error).message });
          }
        }
      } while (inspectAgain && running);
    } finally {
      inspecting = false;
    }
  }

  // ---- http --------------------------------------------------------------------------------------

  /** A paused or stopped container cannot answer; with no container configured, always check. */
  const httpCanRun = (): boolean => role !== 'transition' && (containerCheck === null || container?.status === 'running');

  async function httpTick(): Promise<void> {
    if (http === null || httpBusy) return;
    const s = sources.get('http')!;
    if (!httpCanRun()) {
      // Forget a failure that cannot be re-checked once it is old enough.
      if (verdictOf(s) === 'down' && failureTimeoutMs > 0 && s.lastBadAt !== null && clock.now() - s.lastBadAt >= failureTimeoutMs) {
        log.info({ event: 'health-source', source: 'http', verdict: 'unknown' }, 'http check failure timed out; it will be checked again when the container runs');
        s.hysteresis.reset();
        s.reasons = [];
        publish();
      }
      return;
    }
    httpBusy = true;
    const epoch = roleEpoch;
    try {
      const sample = await httpSample(http, fetchFn, timers);
      // the role changed while the request was out (a release began): the answer is moot
      if (running && epoch === roleEpoch && httpCanRun()) record('http', sample);
    } finally {
      httpBusy = false;
    }
  }

  // ---- ping --------------------------------------------------------------------------------------

  async function pingTick(): Promise<void> {
    if (ping === null) return;
    const round = pings.round;
    const node = ping.nodes[pings.next]!;
    pings.next = (pings.next + 1) % ping.nodes.length;
    if (pings.next === 0) pings.round++;
    // A node still being pinged from its last round, or too many out: this round counts it as silent.
    let answered = false;
    if (!pings.out.has(node) && pings.out.size < MAX_PINGS_OUT) {
      pings.out.add(node);
      answered = await pingOnce(node, deps.run!).finally(() => pings.out.delete(node));
    }
    const tally = pings.rounds.get(round) ?? { done: 0, answered: false };
    tally.done++;
    tally.answered ||= answered;
    if (tally.done < ping.nodes.length) return void pings.rounds.set(round, tally);
    pings.rounds.delete(round);
    if (running) record('ping', pingRoundSample(ping.nodes, tally.answered));
  }

  return {
    start(): void {
      if (running) return;
      running = true;
      if (containerCheck !== null) {
        handles.push(timers.setInterval(() => void inspectNow(), containerCheck.spec.intervalMs));
        void inspectNow();
      }
      if (http !== null) handles.push(timers.setInterval(() => void httpTick(), http.intervalMs));
      if (ping !== null) {
        handles.push(timers.setInterval(() => void pingTick(), Math.max(10, Math.floor(ping.intervalMs / ping.nodes.length))));
        void pingTick();
      }
    },
    stop(): void {
      running = false;
      for (const h of handles.splice(0)) timers.clearInterval(h);
    },
    setRole(next: NodeRole): void {
      if (next === role) return;
      const before = role;
      role = next;
      roleEpoch++;
      log.debug({ event: 'role', from: before, to: next }, 'health role');
      // The last inspect predates the change (a holder's container was still paused a moment
      // ago): judge only a fresh one.
      void inspectNow();
    },
    dockerEvent(event: DockerWatchEvent): void {
      if (event.type === 'docker') {
        setDocker(event.up, event.up ? null : event.error);
        if (event.up) void inspectNow();
        return;
      }
      void inspectNow();
    },
    snapshot(): HealthSnapshot {
      const { healthy, reasons } = evaluate();
      return {
        healthy,
        reasons,
        role,
        docker: { ...docker },
        container,
        sources: [...sources.values()].map((s) => ({ source: s.name, verdict: verdictOf(s), reasons: verdictOf(s) === 'down' ? s.reasons : [], lastSampleAt: s.lastSampleAt, waiting: s.waiting })),
      };
    },
  };
}
