/**
 * Time, injected: the daemon's parts read the clock and set timers only through these, so unit
 * tests drive them with a fake clock they advance (test/support/fake-time.ts) instead of sleeping.
 * A part that needs less takes `Pick<Clock, 'now'>` or `Pick<Timers, 'setTimeout' | 'clearTimeout'>`.
 * main.ts hands the system ones below to every part.
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock milliseconds, for the boot generation and for timestamps people read. */
  wallNow(): number;
}

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` once the loop has read the I/O that is ready now (after its poll phase). */
  afterIo(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

export const systemTimers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  // An immediate runs in the check phase, after the poll phase that reads sockets and pipes.
  afterIo: (fn) => void setImmediate(fn),
};
