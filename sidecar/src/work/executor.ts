/**
 * Runs plans: ordered steps, each in its lane, one step at a time per lane, so work in one lane
 * (a Docker call that hangs) never holds up another (a lease renewal). A step whose turn comes
 * when it is no longer wanted is dropped with the rest of its plan; a failing step is retried
 * with backoff while it is wanted, or ends its plan. `cancel` ends every wait, so that shutdown
 * is never held by a retry.
 */
import type { Timers } from '../clock.js';
import { createBackoff } from './backoff.js';
import { createSerial, type Serial } from './serial.js';

export interface ExecutorStep<L extends string> {
  readonly lane: L;
  readonly retry: boolean;
}

export type PlanOutcome = 'done' | 'dropped' | 'failed' | 'cancelled';

export interface ExecutorOptions<L extends string, S extends ExecutorStep<L>> {
  readonly lanes: readonly L[];
  readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Does the step; a rejection is its failure. */
  readonly perform: (step: S, signal: AbortSignal) => Promise<void>;
  /** Whether the step is still wanted, asked when its turn comes and before each retry. */
  readonly wanted: (step: S) => boolean;
  /** Every failure, with the delay before its retry (null when the plan ends with it). */
  readonly onFailure: (step: S, err: unknown, retryInMs: number | null) => void;
  /** Retry spacing of a failing step (defaults 100 ms doubling up to 5 s). */
  readonly minRetryMs?: number;
  readonly maxRetryMs?: number;
}

export interface Executor<S> {
  run(plan: readonly S[]): Promise<PlanOutcome>;
  /** Resolves once every lane has finished what was queued so far. */
  idle(): Promise<void>;
  /** Ends every retry wait and drops what is not yet started; nothing new runs. */
  cancel(): void;
}

export function createExecutor<L extends string, S extends ExecutorStep<L>>(opts: ExecutorOptions<L, S>): Executor<S> {
  const lanes = new Map<L, Serial>(opts.lanes.map((l) => [l, createSerial()]));
  const abort = new AbortController();

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (abort.signal.aborted) return resolve();
      const done = (): void => {
        opts.timers.clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = opts.timers.setTimeout(done, ms);
      abort.signal.addEventListener('abort', done);
    });
  }

  async function attempt(step: S): Promise<PlanOutcome | null> {
    const backoff = createBackoff(opts.minRetryMs ?? 100, opts.maxRetryMs ?? 5_000);
    for (;;) {
      if (abort.signal.aborted) return 'cancelled';
      if (!opts.wanted(step)) return 'dropped';
      try {
        await opts.perform(step, abort.signal);
        return null;
      } catch (err) {
        if (!step.retry) {
          opts.onFailure(step, err, null);
          return 'failed';
        }
        const delay = backoff.next();
        opts.onFailure(step, err, delay);
        await wait(delay);
      }
    }
  }

  return {
    async run(plan) {
      for (const step of plan) {
        const lane = lanes.get(step.lane);
        if (lane === undefined) throw new Error(`no lane ${step.lane}`);
        const outcome = await lane.run(() => attempt(step));
        if (outcome !== null) return outcome;
      }
      return 'done';
    },
    idle: async () => void (await Promise.all([...lanes.values()].map((l) => l.idle()))),
    cancel: () => abort.abort(),
  };
}
