/**
 * One piece of work at a time, in the order given: each starts when the one before it has
 * settled, whatever its outcome. The daemon's one queue: the executor's lanes, a container
 * driver's applies and reloads all go through one of these.
 */
export interface Serial {
  /** Runs `work` after everything queued before it; its result or failure is the caller's. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves once everything queued so far has settled. */
  idle(): Promise<void>;
}

export function createSerial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(work) {
      const next = tail.then(work, work);
      tail = next.catch(() => undefined);
      return next;
    },
    idle: () => tail.then(() => undefined),
  };
}
