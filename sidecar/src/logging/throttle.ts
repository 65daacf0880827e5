/**
 * One log line per key per window: what an outsider can make the daemon say (refused requests,
 * rejected datagrams, dropped connections) must not cost a line per attempt, or a flood of
 * cheap requests becomes a flood of disk writes that hides the transitions (keepalived logs its
 * packet rejections the same way). The first occurrence in a window is logged; the rest are
 * counted, and the next line says how many were left out.
 *
 * Keys are bounded by the caller (reasons, not addresses or paths); as a guard, a throttle holds
 * at most `maxKeys` and treats any key beyond them as one shared overflow key.
 */
export interface LogThrottle {
  /** Whether to log now; when true, `suppressed` is how many were left out since the last line. */
  admit(key: string): { readonly log: boolean; readonly suppressed: number };
}

export interface LogThrottleOptions {
  readonly windowMs: number;
  readonly now: () => number;
  readonly maxKeys?: number;
  /** Called for every occurrence left out, e.g. to count it in a metric. */
  readonly onSuppressed?: (key: string) => void;
}

const OVERFLOW_KEY = '\u0000overflow';

export function createLogThrottle(opts: LogThrottleOptions): LogThrottle {
  const maxKeys = opts.maxKeys ?? 64;
  const last = new Map<string, { at: number; suppressed: number }>();
  return {
    admit(requested) {
      const key = last.has(requested) || last.size < maxKeys ? requested : OVERFLOW_KEY;
      const now = opts.now();
      const entry = last.get(key);
      if (entry !== undefined && now - entry.at < opts.windowMs) {
        entry.suppressed++;
        opts.onSuppressed?.(requested);
        return { log: false, suppressed: entry.suppressed };
      }
      last.set(key, { at: now, suppressed: 0 });
      return { log: true, suppressed: entry?.suppressed ?? 0 };
    },
  };
}
