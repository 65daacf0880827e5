/**
 * Retry spacing that doubles from `minMs` up to `maxMs`: quick after a passing fault, gentle on
 * something that stays broken. Every retry loop of the daemon takes its delays from one of these.
 */
export interface Backoff {
  /** The delay before the next attempt; each call doubles the one after it, up to the cap. */
  next(): number;
  /** After a success: the next delay is the shortest again. */
  reset(): void;
}

export function createBackoff(minMs: number, maxMs: number): Backoff {
  if (!(minMs > 0 && maxMs >= minMs)) throw new Error(`backoff needs 0 < min ≤ max, got ${minMs} and ${maxMs}`);
  let delay = minMs;
  return {
    next() {
      const now = delay;
      delay = Math.min(maxMs, delay * 2);
      return now;
    },
    reset() {
      delay = minMs;
    },
  };
}
