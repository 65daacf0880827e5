import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one program without a shell. Injected so adapters can be tested without touching the host.
 * With a signal, the program runs in a process group of its own, and an abort kills the whole
 * group (a shell and what it started); the result then has code ABORTED. Input given as a
 * function is made when the program starts, not when it is asked for: a command can wait for a
 * slot, and what its input says (a VIP's lease) counts from the start. Should it throw, the
 * program is not run and the call rejects with its error.
 */
export type RunCommand = (file: string, args: readonly string[], input?: string | (() => string), signal?: AbortSignal) => Promise<CommandResult>;

export class CommandError extends Error {
  readonly code = 'HB_COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(`${command} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'CommandError';
  }
}

/** The exit code a result carries when the program never ran (as a shell reports a missing command). */
export const NOT_RUN = 127;
/** The exit code of a program killed by its signal's abort (as a shell reports SIGKILL). */
export const ABORTED = 137;

export interface CommandLimits {
  /** Children alive at once; more wait their turn. A flood of health probes must not exhaust file descriptors. */
  readonly maxConcurrent?: number;
  /** Commands waiting for a slot; beyond this they fail at once rather than pile up without bound. */
  readonly maxQueued?: number;
  /** Output kept per stream; the rest is dropped (`ip -j` of a normal host is a few kB). */
  readonly maxOutputBytes?: number;
  /** Called once per command that could not be started (spawn failed, queue full). */
  readonly onNotRun?: (file: string, reason: string) => void;
}

const DEFAULT_LIMITS = { maxConcurrent: 16, maxQueued: 256, maxOutputBytes: 1 << 20 } as const;

/**
 * Never rejects and never throws (unless its input function does): a program that cannot be started (EMFILE, ENOENT, EAGAIN) is a
 * result with code NOT_RUN and the reason in stderr, like a program that failed. Node reports
 * spawn failures as an `error` event that has no stdio streams (`child.stdout` is undefined after
 * EMFILE), so the listener goes on first and every stream is optional.
 */
export function spawnCommand(timeoutMs = 5000, limits: CommandLimits = {}): RunCommand {
  const maxConcurrent = limits.maxConcurrent ?? DEFAULT_LIMITS.maxConcurrent;
  const maxQueued = limits.maxQueued ?? DEFAULT_LIMITS.maxQueued;
  const maxOutput = limits.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes;
  let running = 0;
  const waiting: (() => void)[] = [];

  const notRun = (file: string, reason: string): CommandResult => {
    limits.onNotRun?.(file, reason);
    return { code: NOT_RUN, stdout: '', stderr: `${file}: ${reason}` };
  };

  function release(): void {
    running--;
    waiting.shift()?.();
  }

  async function slot(): Promise<boolean> {
    if (running < maxConcurrent) {
      running++;
      return true;
    }
    if (waiting.length >= maxQueued) return false;
    await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    return true;
  }

  return async (file, args, input, signal) => {
    if (!(await slot())) return notRun(file, `not run: ${maxQueued} commands already wait for one of ${maxConcurrent} slots`);
    try {
      if (signal?.aborted === true) return { code: ABORTED, stdout: '', stderr: `${file}: aborted before it started` };
      return await runOne(file, args, typeof input === 'function' ? input() : input, timeoutMs, maxOutput, notRun, signal);
    } finally {
      release();
    }
  };
}

function runOne(file: string, args: readonly string[], input: string | undefined, timeoutMs: number, maxOutput: number, notRun: (file: string, reason: string) => CommandResult, signal?: AbortSignal): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: timeoutMs, detached: signal !== undefined });
    } catch (err) {
      // Invalid arguments throw synchronously; resource exhaustion may too on some Node versions.
      resolve(notRun(file, messageOf(err)));
      return;
    }
    let aborted = false;
    const abort = (): void => {
      aborted = true;
      try {
        // The group: a shell's children would otherwise go on after it.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', abort, { once: true });
    let settled = false;
    const finish = (result: CommandResult): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      resolve(aborted ? { ...result, code: ABORTED } : result);
    };
    let stdout = '';
    let stderr = '';
    // A missing binary or EMFILE surfaces as an error event, not an exit code; report it the same way.
    child.on('error', (err) => finish({ ...notRun(file, messageOf(err)), stdout, stderr: stderr + err.message }));
    child.on('close', (code, signal) => finish({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < maxOutput) stdout += d.slice(0, maxOutput - stdout.length);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < maxOutput) stderr += d.slice(0, maxOutput - stderr.length);
    });
    if (child.stdin) {
      // A program that exits without reading its input must not become an EPIPE crash here.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
