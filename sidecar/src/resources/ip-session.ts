/**
 * One long-lived `ip -j -force -batch -` that takes address changes and listings on its stdin, so
 * that renewing a lease or listing the addresses costs a line written to a pipe, not a process.
 *
 * iproute2 reads batch lines as they arrive and runs them in order. With `-force` a failing line
 * does not end it: it prints `Command failed -:N` (N counts the lines it has read) on stderr
 * and goes on. Its stderr is merged into its stdout (`2>&1`, one `sh` that execs `ip`), so
 * failures and output come back in the order the lines ran. Every request ends with a `show`
 * command, whose JSON line (flushed after each command) says that every line before it has run:
 * the failures seen until then are all of the request's.
 *
 * Anything unexpected (no answer in time, the child gone, output that cannot be matched) fails
 * the request: the caller then does the same work the old way, one spawned `ip` verified by a
 * listing, and the session is started again with backoff.
 */
import type { Logger } from 'pino';
import type { Clock, Timers } from '../clock.js';
import { createBackoff } from '../work/backoff.js';
import { supervise, type LineChild, type StartLineChild, type Supervisor } from './line-child.js';

export interface SessionReply {
  /** Indexes (into the request's changes) of the lines that failed. */
  readonly failed: readonly number[];
  /** The JSON the closing `show` command printed. */
  readonly output: string;
}

export interface IpSession {
  /** Whether a child is running to take requests; when not, `run` rejects at once. */
  readonly up: boolean;
  /** Runs `changes`, then `show` (a listing that always prints, such as `address show`). */
  run(changes: readonly string[], show: string): Promise<SessionReply>;
  /** Ends the child for good. */
  close(): void;
}

export class SessionUnavailable extends Error {
  constructor(reason: string) {
    super(`ip session: ${reason}`);
    this.name = 'SessionUnavailable';
  }
}

export interface IpSessionOptions {
  readonly start: StartLineChild;
  readonly clock: Pick<Clock, 'now'>;
  readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  readonly logger: Logger;
  /**
   * How long a request may wait for its answer. `ip` answers in milliseconds; one that has not
   * answered in this time is taken for hung, and the caller still has time to do the work the
   * old way within a lease (see LEASE_RENEWALS in daemon/runtime.ts).
   */
  readonly replyTimeoutMs?: number;
}

const COMMAND_FAILED = /^Command failed -:(\d+)$/;
/** A line iproute2 would read as more than one command, or as a comment. */
const NOT_ONE_COMMAND = /[\n\\#]/;

interface Pending {
  /** iproute2's number of the request's first line and of its closing `show`. */
  readonly first: number;
  readonly last: number;
  readonly failed: number[];
  readonly diagnostics: string[];
  readonly resolve: (reply: SessionReply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: unknown;
}

export function createIpSession(opts: IpSessionOptions): IpSession {
  const log = opts.logger.child({ component: 'ip-session' });
  const replyTimeoutMs = opts.replyTimeoutMs ?? 1_000;
  let child: LineChild | null = null;
  /** Lines written to the current child: iproute2 numbers them from 1. */
  let written = 0;
  const pending: Pending[] = [];

  function failAll(reason: string): void {
    for (const p of pending.splice(0)) {
      opts.timers.clearTimeout(p.timer);
      p.reject(new SessionUnavailable(reason));
    }
  }

  /** The answer does not fit what was asked: nothing more from this child can be trusted. */
  function doubt(reason: string): void {
    failAll(reason);
    child = null;
    supervisor.restart(reason);
  }

  function onLine(line: string): void {
    const head = pending[0];
    if (head === undefined) {
      if (line.trim() !== '') doubt(`unexpected output: ${line.slice(0, 200)}`);
      return;
    }
    const failed = COMMAND_FAILED.exec(line);
    if (failed !== null) {
      const n = Number(failed[1]);
      if (n < head.first || n > head.last) return doubt(`a failure of line ${n} while lines ${head.first}-${head.last} run`);
      if (n === head.last) return doubt(`the closing listing failed: ${head.diagnostics.join('; ')}`);
      head.failed.push(n - head.first);
      return;
    }
    if (line.startsWith('[')) {
      pending.shift();
      opts.timers.clearTimeout(head.timer);
      if (head.failed.length > 0) log.debug({ failed: head.failed, diagnostics: head.diagnostics }, 'ip session: lines failed');
      head.resolve({ failed: head.failed, output: line });
      return;
    }
    // The reasons printed before a `Command failed` line ("RTNETLINK answers: ...").
    if (head.diagnostics.length < 20) head.diagnostics.push(line);
  }

  const supervisor: Supervisor = supervise({
    start: (events) => opts.start('sh', ['-c', 'exec ip -j -force -batch - 2>&1'], events),
    clock: opts.clock,
    timers: opts.timers,
    backoff: createBackoff(250, 5_000),
    stableMs: 10_000,
    onStart: (c) => {
      child = c;
      written = 0;
    },
    onLine,
    onErrorLine: (line) => log.warn({ event: 'ip-session', line }, `ip session: ${line}`),
    onExit: (reason, restartInMs) => {
      child = null;
      failAll(`ip ${reason}`);
      log.warn({ event: 'ip-session', reason, restartInMs }, `ip session ended (${reason}); spawning ip per change until it is back in ${restartInMs} ms`);
    },
  });

  return {
    get up() {
      return child !== null;
    },
    run(changes, show) {
      const lines = [...changes, show];
      const bad = lines.find((l) => NOT_ONE_COMMAND.test(l));
      if (bad !== undefined) return Promise.reject(new Error(`not one ip command: ${JSON.stringify(bad)}`));
      const c = child;
      if (c === null) return Promise.reject(new SessionUnavailable('not running'));
      return new Promise<SessionReply>((resolve, reject) => {
        const first = written + 1;
        written += lines.length;
        const timer = opts.timers.setTimeout(() => doubt(`no answer in ${replyTimeoutMs} ms`), replyTimeoutMs);
        pending.push({ first, last: written, failed: [], diagnostics: [], resolve, reject, timer });
        if (!c.write(lines.join('\n') + '\n')) doubt('its stdin is closed');
      });
    },
    close() {
      supervisor.stop();
      child = null;
      failAll('closed');
    },
  };
}
