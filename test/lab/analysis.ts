/**
 * Pure analysis of prober records. No I/O, no clock: every time is a number of milliseconds on
 * the lab clock (see `Lab.now()`), so records, marks and windows compare directly.
 * Records need not be sorted: the prober writes them in completion order, not sending order.
 */

/** One completed probe, as the prober writes it (one JSON line each). */
export interface ProbeRecord {
  /** When the GET was started, ms on the lab clock. */
  readonly sentAt: number;
  /** The body of a 200 answer (the responder's host name), or null for any failure. */
  readonly host: string | null;
  /** Time until the answer or the failure (a timeout counts as `timeoutMs`). */
  readonly latencyMs: number;
  /** Why it failed (`timeout`, `ECONNREFUSED`, `HTTP 404`…); absent on success. */
  readonly error?: string;
}

/** An inclusive time window; a missing bound is open. */
export interface Window {
  readonly from?: number;
  readonly to?: number;
}

export interface Gap {
  /** end - start */
  readonly ms: number;
  readonly start: number;
  readonly end: number;
  /**
   * True when one end of the gap is a window bound rather than a real successful probe: nothing
   * answered before `from` (or after `to`), so the real outage may be longer than `ms`.
   */
  readonly open: boolean;
}

const inWindow = (t: number, w: Window): boolean =>
  t >= (w.from ?? -Infinity) && t <= (w.to ?? Infinity);

/** The first probe sent at or after `after` that `host` answered, or undefined. */
export function firstAnswerFrom(
  records: readonly ProbeRecord[],
  host: string,
  after = -Infinity,
): ProbeRecord | undefined {
  let best: ProbeRecord | undefined;
  for (const r of records) {
    if (r.host === host && r.sentAt >= after && (best === undefined || r.sentAt < best.sentAt)) best = r;
  }
  return best;
}

/**
 * The longest interval between consecutive successful probes (by sentAt) that overlaps
 * [from, to]. The successes just outside the window are included as anchors, so an outage that
 * starts before `from` or ends after `to` is measured whole; where no such success exists the
 * window bound stands in and the gap is marked `open`.
 */
export function longestGap(records: readonly ProbeRecord[], from: number, to: number): Gap {
  if (!(from <= to)) throw new RangeError(`longestGap: from (${from}) > to (${to})`);
  const ok = records.filter((r) => r.host !== null).map((r) => r.sentAt).sort((a, b) => a - b);
  const before = ok.filter((t) => t <= from).at(-1);
  const after = ok.find((t) => t >= to && t > from);
  const points: Array<{ t: number; real: boolean }> = [
    before !== undefined ? { t: before, real: true } : { t: from, real: false },
    ...ok.filter((t) => t > from && t < to).map((t) => ({ t, real: true })),
    after !== undefined ? { t: after, real: true } : { t: to, real: false },
  ];
  let gap: Gap = { ms: -1, start: from, end: from, open: true };
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (b.t - a.t > gap.ms) gap = { ms: b.t - a.t, start: a.t, end: b.t, open: !a.real || !b.real };
  }
  return gap;
}

/** How many successful probes each host answered among those sent inside the window. */
export function servedBy(records: readonly ProbeRecord[], window: Window = {}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) {
    if (r.host !== null && inWindow(r.sentAt, window)) counts[r.host] = (counts[r.host] ?? 0) + 1;
  }
  return counts;
}

/** How many probes sent inside the window failed. */
export function failures(records: readonly ProbeRecord[], window: Window = {}): number {
  return records.filter((r) => r.host === null && inWindow(r.sentAt, window)).length;
}

/** The VIP's appearances and removals in `ip -ts -o monitor address` output (UTC stamps), in order. */
export function addressChanges(output: string, vip: string): { at: number; present: boolean }[] {
  const out: { at: number; present: boolean }[] = [];
  for (const line of output.split('\n')) {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] (Deleted )?\d+: \S+\s+inet (\S+)\//.exec(line);
    if (m === null || m[3] !== vip) continue;
    out.push({ at: Date.parse(`${m[1]!.slice(0, 23)}Z`), present: m[2] === undefined });
  }
  return out;
}
