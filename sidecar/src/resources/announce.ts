/**
 * Tells the segment that a VIP now lives here: gratuitous ARP for IPv4, an unsolicited
 * neighbour advertisement for IPv6.
 */
import type { Vip } from '../config/types.js';
import { CommandError, type CommandResult, type RunCommand } from './command.js';

export interface Announcer {
  announce(vip: Vip, count: number): Promise<void>;
}

/** Spacing of the packets within one burst: quick, but not all in one instant a switch may drop. */
const BURST_SPACING_MS = 50;

export function createArpingAnnouncer(run: RunCommand, delay: (ms: number) => Promise<void>): Announcer {
  /**
   * iputils arping takes whole seconds between packets and lingers a second after its last one,
   * so a burst is one single-packet arping per announcement, started BURST_SPACING_MS apart.
   * Each goes in both the request (-U) and the reply (-A) form, because some hosts and switches
   * update their caches from only one of them (RFC 5227 §3 allows both as announcements).
   */
  async function ipv4(vip: Vip, count: number): Promise<void> {
    const sends: Promise<CommandResult>[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await delay(BURST_SPACING_MS);
      for (const mode of ['-U', '-A']) sends.push(run('arping', ['-q', mode, '-c', '1', '-I', vip.iface, vip.address]));
    }
    const results = await Promise.all(sends);
    const failed = results.find((r) => r.code !== 0);
    if (failed !== undefined) throw new CommandError(`arping ${vip.address}`, failed);
  }

  return {
    // For IPv6 the kernel sends the unsolicited neighbour advertisement (RFC 4861 §7.2.6) itself
    // when the nodad address comes up with ndisc_notify on (ipaddr.ts turns it on); announcing
    // again would need the address re-added, which costs a gap, so that one has to do.
    announce: (vip, count) => (vip.family === 4 ? ipv4(vip, count) : Promise.resolve()),
  };
}

