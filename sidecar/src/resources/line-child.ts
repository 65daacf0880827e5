/**
 * A long-lived helper process spoken to in lines (`ip -batch -`, `ip monitor`), and a supervisor
 * that starts it again with backoff whenever it dies. Spawning a process costs more CPU than
 * anything else the idle daemon does, so work that recurs goes to a child that stays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock, Timers } from '../clock.js';
import type { Backoff } from '../work/backoff.js';

export interface LineChildEvents {
  /** One whole line the child printed on stdout, without its newline. */
  line(text: string): void;
  /** One whole line the child printed on stderr. */
  errorLine(text: string): void;
  /** The child is gone (exited, killed, or could not be started); called once. */
  exit(reason: string): void;
}

export interface LineChild {
  /** Writes to the child's stdin; false when it is gone. */
  write(text: string): boolean;
  /** Ends the child (SIGKILL: what it has not done yet must never happen later). */
  kill(): void;
}

/** Starts one child; injected so tests drive fake ones. */
export type StartLineChild = (file: string, args: readonly string[], events: LineChildEvents) => LineChild;

/** Output kept of one line that never ends; `ip -j address show` of a busy host is a few kB. */
const MAX_LINE_CHARS = 1 << 20;

export const spawnLineChild: StartLineChild = (file, args, events) => {
  let gone = false;
  const exit = (reason: string): void => {
    if (gone) return;
    gone = true;
    events.exit(reason);
  };
  let child: ChildProcess;
  try {
    child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    queueMicrotask(() => exit((err as Error).message));
    return { write: () => false, kill: () => {} };
  }
  // A helper never keeps the daemon alive: it ends with it (its stdin closes, or its next write fails).
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  child.on('error', (err) => exit(err.message));
  child.on('close', (code, signal) => exit(signal !== null ? `killed by ${signal}` : `exited ${code}`));
  // A child that exits while a write is under way must not become an EPIPE crash here.
  child.stdin?.on('error', () => {});
  splitLines(child.stdout, (l) => events.line(l));
  splitLines(child.stderr, (l) => events.errorLine(l));
  return {
    write(text) {
      if (gone || child.stdin === null || child.stdin.destroyed) return false;
      child.stdin.write(text);
      return true;
    },
    kill() {
      if (!gone) child.kill('SIGKILL');
    },
  };
};

function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
    if (buffered.length > MAX_LINE_CHARS) buffered = '';
  });
}

export interface SupervisorOptions {
  readonly start: (events: LineChildEvents) => LineChild;
  readonly clock: Pick<Clock, 'now'>;
  readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  readonly backoff: Backoff;
  /** A child that lived this long died of something new: the next one starts after the shortest delay. */
  readonly stableMs: number;
  readonly onStart: (child: LineChild) => void;
  readonly onLine: (line: string) => void;
  readonly onErrorLine: (line: string) => void;
  /** The child died; another starts after a backoff delay. */
  readonly onExit: (reason: string, restartInMs: number) => void;
}

export interface Supervisor {
  /** Ends the child and starts no other. */
  stop(): void;
  /** Kills the child and ignores it from now on; another starts as after any death. */
  restart(reason: string): void;
}

export function supervise(opts: SupervisorOptions): Supervisor {
  let stopped = false;
  /** The running child, and how to take it for dead before its exit is reported. */
  let current: { child: LineChild; end: (reason: string) => void } | null = null;
  let retry: unknown = null;

  function launch(): void {
    retry = null;
    if (stopped) return;
    const startedAt = opts.clock.now();
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      current = null;
      if (stopped) return;
      if (opts.clock.now() - startedAt >= opts.stableMs) opts.backoff.reset();
      const delay = opts.backoff.next();
      retry = opts.timers.setTimeout(launch, delay);
      opts.onExit(reason, delay);
    };
    const child = opts.start({
      line: (l) => {
        if (!ended) opts.onLine(l);
      },
      errorLine: (l) => {
        if (!ended) opts.onErrorLine(l);
      },
      exit: end,
    });
    if (ended) return;
    current = { child, end };
    opts.onStart(child);
  }

  launch();
  return {
    stop() {
      stopped = true;
      if (retry !== null) opts.timers.clearTimeout(retry);
      retry = null;
      current?.child.kill();
      current = null;
    },
    restart(reason) {
      const c = current;
      if (c === null) return;
      c.child.kill();
      // Whatever it still prints is not heard: a new one takes over after the backoff.
      c.end(reason);
    },
  };
}
