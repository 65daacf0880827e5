/**
 * Tells the segment that a VIP now lives here: gratuitous ARP for IPv4, an unsolicited
 * neighbour advertisement for IPv6.
 */
import type { Vip } from '../config/types.js';
import { CommandError, type RunCommand } from './command.js';

export interface Announcer {
  announce(vip: Vip, count: number): Promise<void>;
}

/** Spacing of the packets within one burst: quick, but not all in one instant a switch may drop. */
const BURST_INTERVAL_S = '0.05';

export function createArpingAnnouncer(run: RunCommand): Announcer {
  async function ipv4(vip: Vip, count: number): Promise<void> {
    const common = ['-c', String(count), '-i', BURST_INTERVAL_S, '-I', vip.iface, vip.address];
    // Both the request (-U) and the reply (-A) form, because some hosts and switches update
    // their caches from only one of them (RFC 5227 §3 discusses both as announcements).
    const results = await Promise.all([run('arping', ['-q', '-U', ...common]), run('arping', ['-q', '-A', ...common])]);
    const failed = results.find((r) => r.code !== 0);
    if (failed !== undefined && results.every((r) => r.code !== 0)) throw new CommandError(`arping ${vip.address}`, failed);
  }

  return {
    // For IPv6 the kernel sends the unsolicited neighbour advertisement (RFC 4861 §7.2.6) itself
    // when the nodad address comes up with ndisc_notify on (ipaddr.ts turns it on); announcing
    // again would need the address re-added, which costs a gap, so that one has to do.
    announce: (vip, count) => (vip.family === 4 ? ipv4(vip, count) : Promise.resolve()),
  };
}

