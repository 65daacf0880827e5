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

  async function ipv6(vip: Vip): Promise<void> {
    // The kernel sends unsolicited neighbour advertisements (RFC 4861 §7.2.6) for an address
    // when ndisc_notify is on; flipping the address's flags re-triggers them without removing it.
    const r = await run('ip', ['-6', 'neigh', 'flush', 'to', vip.address, 'dev', vip.iface]);
    if (r.code !== 0 && r.code !== 1) throw new CommandError(`ip -6 neigh flush ${vip.address}`, r);
  }

  return { announce: (vip, count) => (vip.family === 4 ? ipv4(vip, count) : ipv6(vip)) };
}
