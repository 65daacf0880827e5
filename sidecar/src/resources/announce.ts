/**
 * Tells the segment that VIPs now live here: gratuitous ARP for IPv4, an unsolicited neighbour
 * advertisement for IPv6.
 */
import type { Vip } from '../domain/groups.js';
import { CommandError, type RunCommand } from './command.js';

export interface Announcer {
  /**
   * Announces every VIP `count` times; resolves with the addresses whose announcement failed.
   * An abort stops what is left of the burst at once (it then resolves with nothing failed).
   */
  announce(vips: readonly Vip[], count: number, signal?: AbortSignal): Promise<{ readonly failed: readonly string[] }>;
}

/** Spacing of the packets within one burst: quick, but not all in one instant a switch may drop. */
const BURST_SPACING_S = '0.05';

/**
 * iputils arping takes whole seconds between packets and lingers a second after its last one,
 * so a burst is one single-packet arping per announcement and VIP, started BURST_SPACING_S
 * apart. Each goes in both the request (-U) and the reply (-A) form, because some hosts and
 * switches update their caches from only one of them (RFC 5227 §3 allows both as announcements).
 *
 * All of it runs in one `sh`: Node's spawn blocks the event loop until each child has exec'd,
 * and on a busy host a hundred VIPs' worth of arpings spawned from here would hold heartbeats
 * back for seconds. Not at a lower priority: a late round would reach the segment after a
 * release and point clients back here; for the same reason a release aborts the burst still
 * under way (the shell and its arpings are one process group). Prints the address of every
 * arping that failed.
 *
 *   sh -c SCRIPT sh COUNT SPACING IFACE/ADDRESS...
 */
const GARP_SCRIPT = `
n=$1; gap=$2; shift 2
jobs=""
i=0
while [ "$i" -lt "$n" ]; do
  [ "$i" -eq 0 ] || sleep "$gap"
  for v in "$@"; do
    for mode in -U -A; do
      arping -q "$mode" -c 1 -I "\${v%%/*}" "\${v#*/}" &
      jobs="$jobs $!/\${v#*/}"
    done
  done
  i=$((i + 1))
done
for j in $jobs; do
  wait "\${j%%/*}" || echo "\${j#*/}"
done
exit 0
`;

export function createArpingAnnouncer(run: RunCommand): Announcer {
  async function ipv4(vips: readonly Vip[], count: number, signal?: AbortSignal): Promise<readonly string[]> {
    if (vips.length === 0 || count < 1) return [];
    const args = ['-c', GARP_SCRIPT, 'sh', String(count), BURST_SPACING_S, ...vips.map((v) => `${v.iface}/${v.address}`)];
    const r = await run('sh', args, undefined, signal);
    if (signal?.aborted === true) return [];
    if (r.code !== 0) throw new CommandError(`gratuitous ARP for ${vips.map((v) => v.address).join(', ')}`, r);
    return [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
  }

  return {
    // For IPv6 the kernel sends the unsolicited neighbour advertisement (RFC 4861 §7.2.6) itself
    // when the nodad address comes up with ndisc_notify on (ipaddr.ts turns it on); announcing
    // again would need the address re-added, which costs a gap, so that one has to do.
    announce: async (vips, count, signal) => ({ failed: await ipv4(vips.filter((v) => v.family === 4), count, signal) }),
  };
}
