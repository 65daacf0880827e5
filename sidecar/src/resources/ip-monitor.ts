/**
 * The kernel's address changes, as they happen, from one long-lived `ip -o monitor address`: the
 * daemon keeps its view of the interfaces from these events instead of listing them on a timer.
 *
 * `-o` puts each event on one line. `-j` would be nicer, but iproute2 before 6.x prints plain
 * text from `monitor` whatever `-j` says (Debian bookworm's 6.1 does), so the line is parsed:
 *
 *   [Deleted ]IFINDEX: IFNAME    inet ADDRESS/PREFIX [brd B] scope S [FLAGS...] LABEL\    valid_lft Nsec|forever ...
 *   [Deleted ]IFINDEX: IFNAME    inet6 ADDRESS/PREFIX scope S [FLAGS...] \    valid_lft ...
 *
 * An event may have been missed whenever the monitor (re)starts or the kernel drops events for it
 * (`ip` then says "netlink receive error ... No buffer space available" on stderr): the watcher
 * reports a `resync`, and the consumer lists the addresses again.
 */
import type { Logger } from 'pino';
import type { Clock, Timers } from '../clock.js';
import { createBackoff } from '../work/backoff.js';
import type { PresentAddress } from './ipaddr.js';
import { supervise, type StartLineChild, type Supervisor } from './line-child.js';

export type AddressEvent =
  | { readonly type: 'added' | 'deleted'; readonly address: PresentAddress }
  /** Events may have been missed: list the addresses again. The watch is up from here on. */
  | { readonly type: 'resync'; readonly reason: string }
  /** No events until the next `resync`. */
  | { readonly type: 'down'; readonly reason: string };

export interface AddressWatch {
  start(onEvent: (event: AddressEvent) => void): void;
  stop(): void;
  /** Whether events are being heard now (between a `resync` and a `down`). */
  readonly up: boolean;
}

/** One `ip -o monitor address` line as an event; null for a line that is not an address event. */
export function parseMonitorLine(line: string): { type: 'added' | 'deleted'; address: PresentAddress } | null {
  const [head, tail = ''] = line.split('\\', 2) as [string, string | undefined];
  const words = head.trim().split(/\s+/);
  let at = 0;
  const deleted = words[0] === 'Deleted';
  if (deleted) at++;
  if (!/^\d+:$/.test(words[at] ?? '')) return null;
  const ifname = words[at + 1]?.split('@')[0];
  const family = words[at + 2];
  if (ifname === undefined || ifname === '' || (family !== 'inet' && family !== 'inet6')) return null;
  const rest = words.slice(at + 3);
  // A point-to-point address reads "ADDRESS peer PEER/PREFIX": the prefix is the peer's.
  const local = rest[0] ?? '';
  const peer = rest[1] === 'peer' ? rest[2] : undefined;
  const [address, ownPrefix] = local.split('/', 2) as [string, string | undefined];
  const prefix = ownPrefix ?? peer?.split('/', 2)[1];
  if (address === '' || prefix === undefined || !/^\d+$/.test(prefix)) return null;
  // iproute2 prints an IPv4 address's label (its interface name when it has none) last.
  const label = family === 'inet' && rest.length > 1 ? rest[rest.length - 1]! : null;
  const valid = /valid_lft (\d+)sec/.exec(tail);
  return {
    type: deleted ? 'deleted' : 'added',
    address: { iface: ifname, address, prefixLength: Number(prefix), label, validLifeSec: valid === null ? null : Number(valid[1]) },
  };
}

export interface WatchAddressesOptions {
  readonly start: StartLineChild;
  readonly clock: Pick<Clock, 'now'>;
  readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  readonly logger: Logger;
}

/**
 * The monitor subscribes only once `ip` runs, and nothing says when it has: the listing that
 * goes with a (re)start waits this long, so a change made meanwhile is in the listing or in
 * an event. The safety sweep (daemon/runtime.ts) covers a start slower than that.
 */
const SUBSCRIBE_SETTLE_MS = 100;

export function watchAddresses(opts: WatchAddressesOptions): AddressWatch {
  const log = opts.logger.child({ component: 'ip-monitor' });
  let supervisor: Supervisor | null = null;
  let settling: unknown = null;
  let up = false;
  let onEvent: (event: AddressEvent) => void = () => {};

  function resync(reason: string): void {
    up = true;
    onEvent({ type: 'resync', reason });
  }

  return {
    start(on) {
      onEvent = on;
      supervisor = supervise({
        start: (events) => opts.start('ip', ['-o', 'monitor', 'address'], events),
        clock: opts.clock,
        timers: opts.timers,
        backoff: createBackoff(250, 5_000),
        stableMs: 10_000,
        onStart: () => {
          settling = opts.timers.setTimeout(() => {
            settling = null;
            resync('monitor started');
          }, SUBSCRIBE_SETTLE_MS);
        },
        onLine: (line) => {
          const event = parseMonitorLine(line);
          if (event !== null) onEvent(event);
          else if (line.trim() !== '') log.debug({ line }, 'ip monitor: not an address event');
        },
        // Only trouble goes to stderr, above all a receive error after the kernel dropped events.
        onErrorLine: (line) => {
          log.warn({ event: 'ip-monitor', line }, `ip monitor: ${line}; listing the addresses again`);
          if (settling === null) resync(line);
        },
        onExit: (reason, restartInMs) => {
          if (settling !== null) opts.timers.clearTimeout(settling);
          settling = null;
          up = false;
          log.warn({ event: 'ip-monitor', reason, restartInMs }, `ip monitor ended (${reason}); listing the addresses every reconcile period until it is back in ${restartInMs} ms`);
          onEvent({ type: 'down', reason });
        },
      });
    },
    stop() {
      if (settling !== null) opts.timers.clearTimeout(settling);
      settling = null;
      up = false;
      supervisor?.stop();
      supervisor = null;
    },
    get up() {
      return up;
    },
  };
}
