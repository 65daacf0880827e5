/**
 * Writes of one key, one at a time and the newest last. A store that takes each write from
 * several paths at once (etcd's members) may commit an older write after a newer one; so the
 * next write waits until the one in flight has completed, and of the values that came meanwhile
 * only the newest is written: the ones it replaced would be overwritten at once anyway.
 */
export interface LatestWriter<T> {
  /**
   * Writes `value` now, or once the write in flight has completed, replacing any value still
   * waiting. Settles with the write that carried it: its own, or that of a newer value that
   * replaced it.
   */
  write(value: T): Promise<void>;
}

interface Waiting<T> {
  readonly value: T;
  readonly callers: { resolve: () => void; reject: (err: unknown) => void }[];
}

export function createLatestWriter<T>(write: (value: T) => Promise<void>): LatestWriter<T> {
  let inFlight = false;
  let waiting: Waiting<T> | null = null;

  function start(next: Waiting<T>): void {
    inFlight = true;
    const settle = (outcome: (c: Waiting<T>['callers'][number]) => void) => {
      inFlight = false;
      const queued = waiting;
      waiting = null;
      if (queued !== null) start(queued);
      for (const c of next.callers) outcome(c);
    };
    Promise.resolve()
      .then(() => write(next.value))
      .then(
        () => settle((c) => c.resolve()),
        (err: unknown) => settle((c) => c.reject(err)),
      );
  }

  return {
    write(value) {
      return new Promise((resolve, reject) => {
        const caller = { resolve, reject };
        if (!inFlight) start({ value, callers: [caller] });
        else waiting = { value, callers: [...(waiting?.callers ?? []), caller] };
      });
    },
  };
}
