/**
 * Heartbeat's time syntax (cl_get_msec in Heartbeat's lib/clplumbing): a bare number is seconds,
 * `ms` and `us` are milliseconds and microseconds, fractions are allowed and the result is
 * rounded to whole milliseconds. We add an explicit `s`. Both config forms use it, so `keepalive 1`
 * in ha.cf and `keepalive: 1` in YAML mean the same thing.
 */
const DURATION = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|us)?\s*$/i;
const MS_PER_UNIT = { s: 1000, ms: 1, us: 0.001 } as const;

/** Milliseconds, or null when the value is not a duration. */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const m = DURATION.exec(value);
  if (m === null) return null;
  const unit = (m[2]?.toLowerCase() ?? 's') as keyof typeof MS_PER_UNIT;
  const ms = Math.round(Number(m[1]) * MS_PER_UNIT[unit]);
  return Number.isSafeInteger(ms) ? ms : null;
}

/** `2 s`, `1.5 s` or `400 ms`: how messages show a duration. */
export function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
