/**
 * The protected container, driven through the Docker Engine API (dockerode): made to match the
 * node's role by policy, and watched through Docker's event stream.
 *
 * Like balena-supervisor's composition steps, a pure planner (`planAcquire`, `planRelease`,
 * `planReconcile`) turns the container's current state and the policy into a list of steps, and
 * one small executor runs them. Every apply starts from a fresh inspect, so the driver is
 * idempotent: Docker's 304 ("already started", "already stopped") is success, a 409 conflict
 * ("already paused", "is not paused") is settled by inspecting again, and an apply ends by
 * checking that the container reached the target state. Only one apply runs at a time.
 *
 * The container is named by its container name, or by its Compose service name
 * (`com.docker.compose.service` label, optionally narrowed by `com.docker.compose.project`), so
 * the same config works whether or not the compose file sets `container_name`.
 */
import type { Logger } from 'pino';
import { systemClock, systemTimers, type Timers } from '../clock.js';
import type { AcquirePolicy, ContainerPolicy, ReleasePolicy } from '../domain/groups.js';
import { createBackoff } from '../work/backoff.js';
import { createSerial } from '../work/serial.js';

/** Defaults: a paused standby is the fastest to take over (unpause takes milliseconds). */
export const DEFAULT_CONTAINER_POLICY = { onAcquire: 'unpause-or-start', onRelease: 'pause', stopTimeoutSec: 10 } as const;

export type ContainerStatus = 'running' | 'paused' | 'exited' | 'created' | 'restarting' | 'removing' | 'dead' | 'missing';
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ContainerState {
  readonly exists: boolean;
  readonly id: string | null;
  /** The container's name without Docker's leading '/'. */
  readonly name: string | null;
  readonly status: ContainerStatus;
  /** Docker's HEALTHCHECK verdict; 'none' when the image and the container define none. */
  readonly health: ContainerHealth;
  /** The last health probe's output (trimmed, at most 200 characters), for reasons people read. */
  readonly healthOutput: string | null;
  /**
   * When Docker's last health probe ended, as Docker wrote it; null without one. It tells a fresh
   * verdict from one carried over a pause, during which Docker runs no probe.
   */
  readonly healthCheckedAt: string | null;
  /** The container's HEALTHCHECK as Docker runs it (image's or compose's); null without one. */
  readonly healthcheck: HealthcheckSpec | null;
  readonly exitCode: number | null;
  readonly oomKilled: boolean;
}

export interface HealthcheckSpec {
  /** The command as Docker execs it: CMD's arguments, or CMD-SHELL's line under /bin/sh -c. */
  readonly command: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failures in a row that make Docker call it unhealthy. */
  readonly retries: number;
}

/** The outcome of running a container's HEALTHCHECK command ourselves. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Its output, trimmed to 200 characters, for reasons people read. */
  readonly output: string;
}

export const MISSING: ContainerState = Object.freeze({ exists: false, id: null, name: null, status: 'missing', health: 'none', healthOutput: null, healthCheckedAt: null, healthcheck: null, exitCode: null, oomKilled: false });

export type ContainerStep = 'start' | 'unpause' | 'restart' | 'pause' | 'stop';

export interface ApplyResult {
  readonly steps: readonly ContainerStep[];
  readonly before: ContainerState;
  readonly after: ContainerState;
}

/** The port the runtime uses: 4 methods, idempotent, one apply at a time. */
export interface ContainerDriver {
  /** Make the container serve, by `onAcquire`. */
  acquire(): Promise<ApplyResult>;
  /** Make it stop serving, by `onRelease`. */
  release(): Promise<ApplyResult>;
  /**
   * Level-triggered repair: the container as it should be for a holder (running) or a standby
   * (paused or stopped, by policy). Never restarts a running container.
   */
  reconcile(holding: boolean): Promise<ApplyResult>;
  inspect(): Promise<ContainerState>;
  /**
   * Runs the container's own HEALTHCHECK command once, now, as Docker would (an exec, bounded by
   * its timeout); null when it has none or is not running. For when Docker's verdict is stale.
   */
  probe(): Promise<ProbeResult | null>;
}

// ---- errors ------------------------------------------------------------------------------------

/** Every error this adapter raises, by stable code. All are retried by the runtime. */
export const DOCKER_ERRORS = {
  /** The Docker socket cannot be reached: missing, refused, reset or timed out. */
  HB_DOCKER_UNAVAILABLE: 'Docker is unreachable',
  /** Docker answered with an error status that says nothing about the container's state. */
  HB_DOCKER_API: 'Docker API error',
  /** No container has this name, and no Compose service either. */
  HB_CONTAINER_MISSING: 'protected container not found',
  /** The Compose service name matches several containers; set the project or a container_name. */
  HB_CONTAINER_AMBIGUOUS: 'several containers match',
  /** The container is not (or did not end up) in the state the policy needs. */
  HB_CONTAINER_STATE: 'container in the wrong state',
} as const;

export type DockerErrorCode = keyof typeof DOCKER_ERRORS;

export class DockerError extends Error {
  override readonly name = 'DockerError';
  constructor(
    readonly code: DockerErrorCode,
    message: string,
    readonly container: string,
    options?: ErrorOptions & { statusCode?: number },
  ) {
    super(`${DOCKER_ERRORS[code]}: ${message}`, options);
    this.statusCode = options?.statusCode ?? null;
  }
  readonly statusCode: number | null;
}

/** Socket-level failures: Docker is down or unreachable, as opposed to Docker saying no. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENOTCONN', 'ABORT_ERR']);

interface ModemError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

export function isDockerUnavailable(err: unknown): boolean {
  if (err instanceof DockerError) return err.code === 'HB_DOCKER_UNAVAILABLE';
  const e = err as ModemError | null;
  return typeof e?.code === 'string' && UNREACHABLE.has(e.code) && e.statusCode === undefined;
}

/** Docker's own message when it sent one (docker-modem puts the body in `json`). */
function dockerMessage(err: unknown): string {
  const e = err as ModemError | null;
  return e?.json?.message ?? e?.message ?? String(err);
}

function wrap(err: unknown, container: string, what: string): DockerError {
  if (err instanceof DockerError) return err;
  const e = err as ModemError | null;
  if (isDockerUnavailable(err)) return new DockerError('HB_DOCKER_UNAVAILABLE', `${what}: ${e?.code}`, container, { cause: err });
  return new DockerError('HB_DOCKER_API', `${what}: ${dockerMessage(err)}`, container, { cause: err, ...(e?.statusCode !== undefined ? { statusCode: e.statusCode } : {}) });
}

// ---- the Docker client, as much of dockerode as this file uses ---------------------------------

export interface InspectInfo {
  Id: string;
  Name: string;
  State: {
    Status: string;
    ExitCode?: number;
    OOMKilled?: boolean;
    Health?: { Status: string; Log?: Array<{ Output?: string; ExitCode?: number; End?: string }> } | undefined;
  };
  /** Durations in nanoseconds; 0 or absent means Docker's default. */
  Config?: { Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number } | undefined } | undefined;
}

/**
 * Every call the driver makes carries dockerode's `abortSignal` option (docker-modem passes it to
 * the HTTP request as its `signal`), so a call past its time limit is aborted, not left running.
 */
export interface Abortable {
  readonly abortSignal: AbortSignal;
}

export interface ExecHandle {
  start(opts: { hijack: boolean; stdin: boolean } & Abortable): Promise<NodeJS.ReadableStream>;
  inspect(opts: Abortable): Promise<{ ExitCode: number | null; Running: boolean }>;
}

export interface ContainerHandle {
  inspect(opts: Abortable): Promise<InspectInfo>;
  start(opts: Abortable): Promise<unknown>;
  stop(opts: { t: number } & Abortable): Promise<unknown>;
  restart(opts: { t: number } & Abortable): Promise<unknown>;
  pause(opts: Abortable): Promise<unknown>;
  unpause(opts: Abortable): Promise<unknown>;
  exec(opts: { Cmd: string[]; AttachStdout: boolean; AttachStderr: boolean } & Abortable): Promise<ExecHandle>;
}

/** A structural subset of Dockerode, so tests can pass a fake and the runtime a real client. */
export interface DockerClient {
  getContainer(id: string): ContainerHandle;
  listContainers(opts: { all: boolean; filters: { label: string[] } } & Abortable): Promise<Array<{ Id: string; Names?: string[] }>>;
  getEvents(opts: { filters: { type: Array<'container'>; event: string[] } }): Promise<NodeJS.ReadableStream>;
}

// ---- the planner (pure) ------------------------------------------------------------------------

export type Plan = { readonly ok: true; readonly steps: readonly ContainerStep[] } | { readonly ok: false; readonly reason: string };

const plan = (...steps: ContainerStep[]): Plan => ({ ok: true, steps });
const refuse = (reason: string): Plan => ({ ok: false, reason });

/**
 * Steps that make the container serve. A paused container cannot be started and a dead one
 * cannot run again, so the policy names the intent and the state picks the step.
 */
export function planAcquire(policy: AcquirePolicy, status: ContainerStatus): Plan {
  if (policy === 'none') return plan();
  switch (status) {
    case 'missing':
      return refuse('it does not exist');
    case 'dead':
    case 'removing':
      return refuse(`it is ${status}`);
    case 'restarting':
      // Docker's restart policy is bringing it back; the post-check retries until it runs.
      return plan();
    case 'running':
      return policy === 'restart' ? plan('restart') : plan();
    case 'paused':
      return policy === 'restart' ? plan('unpause', 'restart') : plan('unpause');
    case 'exited':
    case 'created':
      if (policy === 'unpause') return refuse(`it is ${status} and the acquire policy is unpause, which never starts it`);
      return policy === 'restart' ? plan('restart') : plan('start');
  }
}

/** Steps that make it stop serving. Not existing, or not running, already counts as released. */
export function planRelease(policy: ReleasePolicy, status: ContainerStatus): Plan {
  if (policy === 'none') return plan();
  switch (status) {
    case 'running':
      return plan(policy);
    case 'paused':
      // Docker refuses to stop a paused container; thaw it first.
      return policy === 'stop' ? plan('unpause', 'stop') : plan();
    case 'restarting':
      // It cannot be paused between two runs; stopping also ends the restart loop.
      return plan('stop');
    case 'exited':
    case 'created':
    case 'dead':
    case 'removing':
    case 'missing':
      return plan();
  }
}

/** Reconcile never restarts: a running holder is left alone, whatever the acquire policy. */
export function planReconcile(policy: ContainerPolicy, holding: boolean, status: ContainerStatus): Plan {
  if (!holding) return planRelease(policy.onRelease, status);
  // A holder's container that exited was stopped by someone or died: that is for the health
  // check (hand over to a healthy peer) and Docker's restart policy, not for a reconcile that
  // would start it again behind the operator's back. Only a pause is drift to undo.
  if (status !== 'paused' || policy.onAcquire === 'none') return { ok: true, steps: [] };
  return { ok: true, steps: ['unpause'] };
}

/** Whether a state satisfies the role. Used to check the outcome of an apply. */
export function satisfies(state: ContainerState, policy: ContainerPolicy, holding: boolean): boolean {
  if (holding) return policy.onAcquire === 'none' || state.status === 'running';
  switch (policy.onRelease) {
    case 'none':
      return true;
    case 'pause':
      return state.status !== 'running' && state.status !== 'restarting';
    case 'stop':
      return state.status !== 'running' && state.status !== 'paused' && state.status !== 'restarting';
  }
}

const STATUSES = new Set<ContainerStatus>(['running', 'paused', 'exited', 'created', 'restarting', 'removing', 'dead']);
const HEALTHS = new Set<ContainerHealth>(['healthy', 'unhealthy', 'starting']);

/** Docker's defaults for a HEALTHCHECK that leaves these unset (or 0). */
const HEALTHCHECK_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3 } as const;

function healthcheckOf(info: InspectInfo): HealthcheckSpec | null {
  const h = info.Config?.Healthcheck;
  const [kind, ...args] = h?.Test ?? [];
  let command: string[];
  if (kind === 'CMD' && args.length > 0) command = args;
  else if (kind === 'CMD-SHELL' && args.length === 1) command = ['/bin/sh', '-c', args[0]!];
  else return null;
  const ms = (ns: number | undefined, fallback: number): number => (ns !== undefined && ns > 0 ? Math.round(ns / 1e6) : fallback);
  return {
    command,
    intervalMs: ms(h?.Interval, HEALTHCHECK_DEFAULTS.intervalMs),
    timeoutMs: ms(h?.Timeout, HEALTHCHECK_DEFAULTS.timeoutMs),
    retries: h?.Retries !== undefined && h.Retries > 0 ? h.Retries : HEALTHCHECK_DEFAULTS.retries,
  };
}

export function stateOf(info: InspectInfo): ContainerState {
  const status = STATUSES.has(info.State.Status as ContainerStatus) ? (info.State.Status as ContainerStatus) : 'dead';
  const h = info.State.Health;
  const health = h !== undefined && HEALTHS.has(h.Status as ContainerHealth) ? (h.Status as ContainerHealth) : 'none';
  const probe = h?.Log?.at(-1);
  const last = probe?.Output?.trim();
  return {
    exists: true,
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    status,
    health,
    healthOutput: last === undefined || last === '' ? null : last.slice(0, 200),
    healthCheckedAt: probe?.End ?? null,
    healthcheck: healthcheckOf(info),
    exitCode: info.State.ExitCode ?? null,
    oomKilled: info.State.OOMKilled ?? false,
  };
}

/** Whether a container in `status` is where `step` takes it, so a refused step is done anyway. */
export function stepDone(step: ContainerStep, status: ContainerStatus): boolean {
  switch (step) {
    case 'start':
    case 'restart':
      return status === 'running';
    case 'unpause':
      return status !== 'paused';
    case 'pause':
      return status !== 'running' && status !== 'restarting';
    case 'stop':
      return status !== 'running' && status !== 'paused' && status !== 'restarting';
  }
}

// ---- the driver --------------------------------------------------------------------------------

export interface DockerDriverOptions {
  /** Per API call, except stop and restart, which add their own stop timeout (default 10 s). */
  readonly callTimeoutMs?: number;
  readonly timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Every Docker step, its outcome and how long it took (for metrics); "already there" is ok. */
  readonly onStep?: (step: ContainerStep, ok: boolean, seconds: number) => void;
  /** Monotonic milliseconds for the step durations (default the system's monotonic clock). */
  readonly now?: () => number;
}

export function createDockerContainerDriver(docker: DockerClient, policy: ContainerPolicy, logger: Logger, opts: DockerDriverOptions = {}): ContainerDriver {
  const log = logger.child({ component: 'docker', container: policy.name });
  const stopT = policy.stopTimeoutSec ?? DEFAULT_CONTAINER_POLICY.stopTimeoutSec;
  const callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  const timers = opts.timers ?? systemTimers;
  /** One apply at a time: each waits for the previous one, whatever its outcome. */
  const applies = createSerial();

  /**
   * Docker may hang (a stuck dockerd); a call that never answers must not stall every apply. Past
   * the limit the call's request is aborted, not merely no longer awaited: its socket is closed
   * and its late answer goes nowhere. A step dockerd had already received may still happen there,
   * which is why every apply inspects the container before it plans.
   */
  function timed<T>(what: string, ms: number, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    let timer: unknown = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = timers.setTimeout(() => {
        const err = Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' });
        // Rejected before the abort, whose AbortError the call may report at once: the race
        // then settles with the timeout, which says what ran late.
        reject(err);
        abort.abort(err);
      }, ms);
    });
    return Promise.race([call(abort.signal), timeout]).finally(() => timers.clearTimeout(timer));
  }

  /** The container's id, by exact name first, then by Compose service label. */
  async function resolve(): Promise<InspectInfo | null> {
    try {
      const info = await timed('inspect', callTimeoutMs, (abortSignal) => docker.getContainer(policy.name).inspect({ abortSignal }));
      // Docker also resolves id prefixes; a name like "cafe" must not pick a container by its id.
      if (info.Name === `/${policy.name}` || info.Id === policy.name) return info;
    } catch (err) {
      if ((err as ModemError).statusCode !== 404) throw wrap(err, policy.name, 'inspect');
    }
    const label = [`com.docker.compose.service=${policy.name}`];
    if (policy.project) label.push(`com.docker.compose.project=${policy.project}`);
    let found: Array<{ Id: string; Names?: string[] }>;
    try {
      found = await timed('list', callTimeoutMs, (abortSignal) => docker.listContainers({ all: true, filters: { label }, abortSignal }));
    } catch (err) {
      throw wrap(err, policy.name, 'list containers');
    }
    if (found.length === 0) return null;
    if (found.length > 1) {
      const names = found.map((c) => c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)).join(', ');
      throw new DockerError('HB_CONTAINER_AMBIGUOUS', `service ${policy.name} matches ${names}; set the project or a container_name`, policy.name);
    }
    try {
      return await timed('inspect', callTimeoutMs, (abortSignal) => docker.getContainer(found[0]!.Id).inspect({ abortSignal }));
    } catch (err) {
      // removed between the list and the inspect
      if ((err as ModemError).statusCode === 404) return null;
      throw wrap(err, policy.name, 'inspect');
    }
  }

  async function inspect(): Promise<ContainerState> {
    const info = await resolve();
    return info === null ? MISSING : stateOf(info);
  }

  const now = opts.now ?? systemClock.now;

  async function step(id: string, s: ContainerStep): Promise<void> {
    const t0 = now();
    let ok = false;
    try {
      await stepOnce(id, s);
      ok = true;
    } finally {
      opts.onStep?.(s, ok, (now() - t0) / 1000);
    }
  }

  async function stepOnce(id: string, s: ContainerStep): Promise<void> {
    const c = docker.getContainer(id);
    try {
      switch (s) {
        case 'start':
          await timed('start', callTimeoutMs, (abortSignal) => c.start({ abortSignal }));
          break;
        case 'unpause':
          await timed('unpause', callTimeoutMs, (abortSignal) => c.unpause({ abortSignal }));
          break;
        case 'pause':
          await timed('pause', callTimeoutMs, (abortSignal) => c.pause({ abortSignal }));
          break;
        case 'stop':
          await timed('stop', callTimeoutMs + stopT * 1000, (abortSignal) => c.stop({ t: stopT, abortSignal }));
          break;
        case 'restart':
          await timed('restart', callTimeoutMs + stopT * 1000, (abortSignal) => c.restart({ t: stopT, abortSignal }));
          break;
        default: {
          const unknown: never = s;
          throw new Error(`no executor for step ${String(unknown)}`);
        }
      }
    } catch (err) {
      const status = (err as ModemError).statusCode;
      // 304: "already started", "already stopped".
      if (status === 304) {
        log.debug({ step: s, statusCode: status, detail: dockerMessage(err) }, 'already there');
        return;
      }
      if (isDockerUnavailable(err)) throw wrap(err, policy.name, s);
      // "already paused", "is not paused", "is not running": Docker answers these with 409 or
      // 500 depending on its version, in words only. So look instead of parsing: if the
      // container is where this step was taking it, the step is done.
      const now = await inspect().catch(() => null);
      if (now !== null && stepDone(s, now.status)) {
        log.debug({ step: s, statusCode: status, status: now.status, detail: dockerMessage(err) }, 'already there');
        return;
      }
      throw wrap(err, policy.name, s);
    }
  }

  async function apply(what: 'acquire' | 'release' | 'reconcile', holding: boolean, planFor: (status: ContainerStatus) => Plan): Promise<ApplyResult> {
    const info = await resolve();
    if (info === null) {
      // Nothing to release when there is no container; a holder without one is an error.
      const p = planFor('missing');
      if (p.ok) return { steps: [], before: MISSING, after: MISSING };
      throw new DockerError('HB_CONTAINER_MISSING', `no container or Compose service named ${policy.name}`, policy.name);
    }
    const before = stateOf(info);
    const p = planFor(before.status);
    if (!p.ok) throw new DockerError('HB_CONTAINER_STATE', `cannot ${what} ${before.name}: ${p.reason}`, policy.name);
    for (const s of p.steps) await step(info.Id, s);
    const after = p.steps.length === 0 ? before : await inspect();
    if (p.steps.length > 0) log.info({ event: 'container', action: what, steps: p.steps, from: before.status, to: after.status }, `${what} ${before.name}: ${p.steps.join(', ')} (${before.status} -> ${after.status})`);
    // a reconcile that chose to leave the container alone has nothing to answer for
    if (!satisfies(after, policy, holding) && !(what === 'reconcile' && p.steps.length === 0)) {
      throw new DockerError('HB_CONTAINER_STATE', `${what} ${before.name}: ${after.status} after ${p.steps.join(', ') || 'no step'}`, policy.name);
    }
    return { steps: p.steps, before, after };
  }

  async function probe(): Promise<ProbeResult | null> {
    const info = await resolve();
    if (info === null) return null;
    const state = stateOf(info);
    if (state.status !== 'running' || state.healthcheck === null) return null;
    const spec = state.healthcheck;
    const c = docker.getContainer(info.Id);
    try {
      const exec = await timed('exec', callTimeoutMs, (abortSignal) => c.exec({ Cmd: [...spec.command], AttachStdout: true, AttachStderr: true, abortSignal }));
      const stream = await timed('exec start', callTimeoutMs, (abortSignal) => exec.start({ hijack: true, stdin: false, abortSignal }));
      // A probe past its timeout leaves no socket behind (the command itself is the container's).
      const output = await timed('health probe', spec.timeoutMs, () => readAll(stream)).finally(() => (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.());
      const { ExitCode } = await timed('exec inspect', callTimeoutMs, (abortSignal) => exec.inspect({ abortSignal }));
      return { ok: ExitCode === 0, output: output.trim().slice(0, 200) };
    } catch (err) {
      if (isDockerUnavailable(err) && !/health probe timed out/.test((err as Error).message)) throw wrap(err, policy.name, 'probe');
      // Docker's own rule: a probe that does not end within its timeout is a failure.
      return { ok: false, output: (err as Error).message.slice(0, 200) };
    }
  }

  return {
    acquire: () => applies.run(() => apply('acquire', true, (s) => planAcquire(policy.onAcquire, s))),
    release: () => applies.run(() => apply('release', false, (s) => planRelease(policy.onRelease, s))),
    reconcile: (holding) => applies.run(() => apply('reconcile', holding, (s) => planReconcile(policy, holding, s))),
    inspect,
    probe,
  };
}

/**
 * An attached exec's output without a TTY comes in frames: an 8-byte header (stream, 3 zero
 * bytes, a big-endian length) before each chunk. Returns stdout and stderr together, as text.
 */
function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    stream.on('error', reject);
    stream.on('end', () => resolve(demux(Buffer.concat(chunks))));
  });
}

export function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length && raw[at + 1] === 0 && raw[at + 2] === 0 && raw[at + 3] === 0) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  // not framed (a TTY, or an unknown format): the bytes as they came
  return (at === 0 ? raw : Buffer.concat(parts)).toString('utf8');
}

// ---- the event stream --------------------------------------------------------------------------

export type DockerWatchEvent =
  | { readonly type: 'docker'; readonly up: true }
  | { readonly type: 'docker'; readonly up: false; readonly error: string }
  | {
      readonly type: 'container';
      /** Docker's action: start, die, pause, unpause, health_status, destroy... */
      readonly action: string;
      readonly id: string;
      readonly name: string | null;
      /** For `health_status` events: the new verdict. */
      readonly health: ContainerHealth | null;
    };

export interface WatchOptions {
  readonly timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Re-subscribe delay after a break, doubling up to the cap (defaults 250 ms and 5 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface DockerWatch {
  stop(): void;
  /** Whether the event stream is connected now. */
  readonly up: boolean;
}

/** The actions that change what the container is doing; exec_* (every health probe) is noise. */
export const WATCHED_ACTIONS = ['create', 'start', 'restart', 'die', 'kill', 'stop', 'oom', 'pause', 'unpause', 'destroy', 'rename', 'health_status'] as const;

interface RawEvent {
  Type?: string;
  Action?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** Whether a raw event is about the protected container: by its name or its Compose service. */
export function eventMatches(ev: RawEvent, target: Pick<ContainerPolicy, 'name' | 'project'>): boolean {
  const attrs = ev.Actor?.Attributes ?? {};
  if (attrs.name === target.name) return true;
  if (attrs['com.docker.compose.service'] !== target.name) return false;
  return !target.project || attrs['com.docker.compose.project'] === target.project;
}

export function parseEvent(ev: RawEvent): DockerWatchEvent | null {
  if (ev.Type !== 'container' || typeof ev.Action !== 'string') return null;
  const [action, detail] = ev.Action.split(': ', 2) as [string, string | undefined];
  const health = action === 'health_status' && detail !== undefined && HEALTHS.has(detail as ContainerHealth) ? (detail as ContainerHealth) : null;
  return { type: 'container', action, id: ev.Actor?.ID ?? ev.id ?? '', name: ev.Actor?.Attributes?.name ?? null, health };
}

/**
 * Subscribes to Docker's event stream for the protected container and reports its events, and
 * whether Docker is reachable (`{type:'docker', up}` on every change). When the stream breaks —
 * dockerd restarted, the socket went away — it re-subscribes with backoff, for as long as it runs.
 * Events missed while down are not replayed: the consumer re-inspects on `up`.
 */
export function watchDockerEvents(
  docker: Pick<DockerClient, 'getEvents'>,
  target: Pick<ContainerPolicy, 'name' | 'project'>,
  onEvent: (event: DockerWatchEvent) => void,
  logger: Logger,
  opts: WatchOptions = {},
): DockerWatch {
  const log = logger.child({ component: 'docker-events', container: target.name });
  const timers = opts.timers ?? systemTimers;
  const backoff = createBackoff(opts.minBackoffMs ?? 250, opts.maxBackoffMs ?? 5_000);
  let stopped = false;
  let up: boolean | null = null;
  let stream: NodeJS.ReadableStream | null = null;
  let retry: unknown = null;

  function report(nowUp: boolean, error = ''): void {
    if (up === nowUp) return;
    up = nowUp;
    if (nowUp) log.info({ event: 'docker', up: true }, 'Docker event stream connected');
    else log.warn({ event: 'docker', up: false, error }, `Docker unreachable: ${error}`);
    onEvent(nowUp ? { type: 'docker', up: true } : { type: 'docker', up: false, error });
  }

  function broken(error: string): void {
    if (stopped) return;
    stream = null;
    report(false, error);
    if (retry !== null) return;
    retry = timers.setTimeout(() => {
      retry = null;
      void connect();
    }, backoff.next());
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    let s: NodeJS.ReadableStream;
    try {
      s = await docker.getEvents({ filters: { type: ['container'], event: [...WATCHED_ACTIONS] } });
    } catch (err) {
      return broken(isDockerUnavailable(err) ? String((err as ModemError).code) : dockerMessage(err));
    }
    if (stopped) {
      destroy(s);
      return;
    }
    stream = s;
    backoff.reset();
    report(true);
    let buffered = '';
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      if (stream === s) broken(why);
    };
    s.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      // One JSON object per line (Docker flushes each event on its own).
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        let raw: RawEvent;
        try {
          raw = JSON.parse(line) as RawEvent;
        } catch {
          log.warn({ line: line.slice(0, 200) }, 'unparseable Docker event');
          continue;
        }
        if (!eventMatches(raw, target)) continue;
        const ev = parseEvent(raw);
        if (ev !== null) onEvent(ev);
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => end(err.code ?? err.message));
    s.on('end', () => end('event stream ended'));
    s.on('close', () => end('event stream closed'));
  }

  function destroy(s: NodeJS.ReadableStream): void {
    (s as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }

  void connect();
  return {
    stop(): void {
      stopped = true;
      if (retry !== null) timers.clearTimeout(retry);
      retry = null;
      if (stream !== null) destroy(stream);
      stream = null;
    },
    get up(): boolean {
      return up === true;
    },
  };
}
