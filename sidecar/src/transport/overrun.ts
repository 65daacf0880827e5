/**
 * Kernel drops on the heartbeat sockets, and what they mean for the election.
 *
 * A flood at the heartbeat port (junk with the peer's spoofed source, or our own datagrams
 * replayed) fills the socket's receive buffer faster than the daemon empties it, and the kernel
 * drops the peer's real heartbeats with the junk. Nothing in the datagrams shows it; only the
 * socket's drop counter (the `drops` column of /proc/net/udp, per socket, in this network
 * namespace) and the namespace-wide RcvbufErrors do. Node has no SO_RXQ_OVFL, so the counter is
 * polled: slowly while every peer is heard on time (the drops are counted since the last reading,
 * so nothing is missed, only judged later), and at once from the runtime's tick whenever a peer
 * is late, which is the only time the verdict can change what the engine decides.
 *
 * While a socket drops, silence on it is not evidence that the peer is dead: the standby that
 * took it as such claimed the VIP beside a live holder (~150k junk datagrams/s were enough). So
 * an overrun makes a node that holds nothing ineligible, as an unhealthy one is, until its
 * sockets have been clean for a whole deadtime: then silence means what it says again. A holder
 * keeps what it holds; a flood must not be able to empty the cluster either.
 */

/** One heartbeat socket as /proc/net/udp lists it. */
export interface UdpSocketStats {
  readonly localAddress: string;
  readonly localPort: number;
  readonly rxQueueBytes: number;
  readonly drops: number;
}

/** Parses /proc/net/udp (IPv4): `sl local_address rem_address st tx_queue:rx_queue … drops`. */
export function parseProcNetUdp(text: string): UdpSocketStats[] {
  const out: UdpSocketStats[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [addrHex, portHex] = f[1]!.split(':');
    const rx = f[4]!.split(':')[1];
    const drops = Number(f[f.length - 1]);
    if (addrHex?.length !== 8 || portHex === undefined || rx === undefined || !Number.isFinite(drops)) continue;
    // The address is the kernel's __be32 printed as a host-order (little-endian here) integer.
    const n = Number.parseInt(addrHex, 16);
    const localAddress = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
    out.push({ localAddress, localPort: Number.parseInt(portHex, 16), rxQueueBytes: Number.parseInt(rx, 16), drops });
  }
  return out;
}

export interface OverrunWatchOptions {
  /** Reads /proc/net/udp; injected for tests. Synchronous: procfs answers from memory, and a poll from a tick must judge before the tick's decisions are acted on. */
  readonly read: () => string;
  /** The heartbeat port now (a reload may change it). Every socket on it is ours: it is bound exclusively. */
  readonly port: () => number;
  readonly now: () => number;
  readonly timers: { setInterval(fn: () => void, ms: number): unknown; clearInterval(h: unknown): void };
  /** The slow poll while nothing is late. */
  readonly intervalMs: number;
  /** How long the sockets must be clean before silence counts again: deadtime and one poll. */
  readonly quietMs: () => number;
  /** The drops so far on each heartbeat socket (`address:port`), for a metric. */
  readonly onDrops?: (socket: string, total: number) => void;
  /** Called after every poll: a reason while overrun (and for a deadtime after), else null; and the drops since the last poll. */
  readonly onVerdict: (overrun: string | null, dropped: number) => void;
}

export interface OverrunWatch {
  start(): void;
  stop(): void;
  /** Polls once now (the timer does this every interval). */
  poll(): void;
}

export function createOverrunWatch(opts: OverrunWatchOptions): OverrunWatch {
  const last = new Map<string, number>();
  let overrunUntil = -Infinity;
  let reason: string | null = null;
  let handle: unknown = null;

  function poll(): void {
    let text: string;
    try {
      text = opts.read();
    } catch {
      return; // no procfs (not Linux): nothing to watch
    }
    const port = opts.port();
    const now = opts.now();
    let dropped = 0;
    for (const s of parseProcNetUdp(text)) {
      if (s.localPort !== port) continue;
      const key = `${s.localAddress}:${s.localPort}`;
      const before = last.get(key);
      last.set(key, s.drops);
      opts.onDrops?.(key, s.drops);
      // The first reading is a baseline: drops before we watched are history.
      if (before !== undefined && s.drops > before) dropped += s.drops - before;
    }
    if (dropped > 0) {
      overrunUntil = now + opts.quietMs();
      reason ??= 'heartbeat socket overrun: the kernel drops datagrams on it, so peer silence is not evidence';
    } else if (now >= overrunUntil) reason = null;
    opts.onVerdict(reason, dropped);
  }

  return {
    start() {
      handle ??= opts.timers.setInterval(poll, opts.intervalMs);
      poll();
    },
    stop() {
      if (handle !== null) opts.timers.clearInterval(handle);
      handle = null;
    },
    poll,
  };
}

/**
 * The node's health as the engine sees it: the monitors' verdict, and ineligible while overrun
 * unless it holds something. Sends only changes.
 */
export function createHealthGate(send: (healthy: boolean, reasons: readonly string[]) => void, holding: () => boolean) {
  let base: { healthy: boolean; reasons: readonly string[] } = { healthy: true, reasons: [] };
  let overrun: string | null = null;
  let sent: string | null = null;
  function emit(): void {
    const gated = overrun !== null && !holding();
    const healthy = base.healthy && !gated;
    const reasons = gated ? [...base.reasons, overrun!] : base.reasons;
    const key = JSON.stringify([healthy, reasons]);
    if (key === sent) return;
    sent = key;
    send(healthy, reasons);
  }
  return {
    health(healthy: boolean, reasons: readonly string[]): void {
      base = { healthy, reasons };
      emit();
    },
    overrun(reason: string | null): void {
      overrun = reason;
      emit();
    },
  };
}
