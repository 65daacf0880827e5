/**
 * A fake monotonic clock with timers, for unit tests that must never sleep: a `Clock` and
 * `Timers` (see clock.ts) in one object. `advance(ms)` fires due timers in time order (ties in
 * the order they were set) and lets the promises they start settle between firings, so async code
 * driven by timers runs as it would.
 */
import type { Clock, Timers } from '../../sidecar/src/clock.js';

export class FakeTime implements Clock, Timers {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void; every: number | null }>();

  /** `start`: the monotonic reading before the first advance. */
  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return 1_700_000_000_000 + this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn, every: null });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Fires on the next `advance`, before any timer that is due later: no I/O is pending here. */
  afterIo(fn: () => void): void {
    this.setTimeout(fn, 0);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(1, ms), fn, every: Math.max(1, ms) });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Timers not yet fired (intervals count once). */
  get timerCount(): number {
    return this.pending.size;
  }

  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void; every: number | null }] | undefined;
      for (const e of this.pending) if (e[1].at <= until && (next === undefined || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (next === undefined) break;
      const [id, timer] = next;
      this.t = timer.at;
      if (timer.every === null) this.pending.delete(id);
      else timer.at += timer.every;
      timer.fn();
      await settle();
    }
    this.t = until;
    await settle();
  }
}

/** Lets every promise chain that is ready run to completion (twenty event-loop turns, no time). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
