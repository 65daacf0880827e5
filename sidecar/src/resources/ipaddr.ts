/**
 * The VIP on the host interface, through iproute2. State is read from `ip -j` JSON, never by
 * matching text. Changes go through one `ip -batch` so that a group of 100 VIPs costs one
 * process, not 100; with a session (ip-session.ts) they cost none: the lines go to the `ip` that
 * stays, and only when that one is down or in doubt is a process spawned, as before.
 */
import type { Vip } from '../domain/groups.js';
import { CommandError, type RunCommand } from './command.js';
import type { IpSession } from './ip-session.js';

export interface PresentAddress {
  readonly iface: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly label: string | null;
  /** Seconds left of the kernel lifetime; null when it is permanent. */
  readonly validLifeSec: number | null;
}

export interface VipDriver {
  /** Every address on the host's interfaces, keyed by address. */
  list(): Promise<Map<string, PresentAddress>>;
  /**
   * Adds or renews: each VIP ends up present with a fresh lease. "Already there" is success.
   * `leaseSec` gives the kernel lease for a write issued now, and is asked again for each write
   * (a fallback to a spawned `ip` issues its own, later); below 1 the write is not made and the
   * assign fails with FenceTooClose.
   */
  assign(vips: readonly Vip[], leaseSec: () => number): Promise<void>;
  /** Removes; "not there" is success. */
  remove(vips: readonly Vip[]): Promise<void>;
  /** Ends any helper process it keeps. */
  close?(): void;
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
  valid_life_time?: number;
}

interface IpLink {
  ifname?: string;
  addr_info?: IpAddrInfo[];
}

/** The kernel reports a permanent address with this lifetime (INFINITY_LIFE_TIME). */
const INFINITE_LIFETIME = 4294967295;

export function parseIpAddrJson(json: string): Map<string, PresentAddress> {
  const out = new Map<string, PresentAddress>();
  const links = JSON.parse(json) as IpLink[];
  for (const link of links) {
    for (const info of link.addr_info ?? []) {
      if (info.local === undefined || link.ifname === undefined) continue;
      const life = info.valid_life_time;
      out.set(info.local, {
        iface: link.ifname,
        address: info.local,
        prefixLength: info.prefixlen ?? 0,
        label: info.label ?? null,
        validLifeSec: life === undefined || life >= INFINITE_LIFETIME ? null : life,
      });
    }
  }
  return out;
}

function assignLine(vip: Vip, leaseSec: number): string {
  const words = ['address', 'replace', `${vip.address}/${vip.prefixLength}`, 'dev', vip.iface];
  if (vip.family === 4 && vip.label !== null) words.push('label', vip.label);
  words.push('valid_lft', String(leaseSec), 'preferred_lft', String(leaseSec));
  // No duplicate address detection: the address is ours by election, and DAD would hold it
  // "tentative" (unusable) for a second or more right when clients need it.
  if (vip.family === 6) words.push('nodad');
  return words.join(' ');
}

function removeLine(vip: Vip): string {
  return ['address', 'del', `${vip.address}/${vip.prefixLength}`, 'dev', vip.iface].join(' ');
}

/** No whole second of kernel lease is left before the etcd fence: the VIP was not written. */
export class FenceTooClose extends Error {
  constructor() {
    super('the etcd fence is less than a second away: the VIP would outlive it');
    this.name = 'FenceTooClose';
  }
}

/** Sets a kernel tunable by its /proc/sys path; injected so tests never touch the host. */
export type WriteSysctl = (file: string, value: string) => Promise<void>;

/** Closes a session request: prints one short line whatever happened, after every line before it ran. */
const SESSION_BARRIER = 'link show dev lo';

export function createIpVipDriver(run: RunCommand, writeSysctl: WriteSysctl, session?: IpSession): VipDriver {
  async function list(): Promise<Map<string, PresentAddress>> {
    if (session?.up === true) {
      try {
        return parseIpAddrJson((await session.run([], 'address show')).output);
      } catch {
        // the session is started again on its own; this once, a process lists
      }
    }
    const r = await run('ip', ['-j', 'address', 'show']);
    if (r.code !== 0) throw new CommandError('ip -j address show', r);
    return parseIpAddrJson(r.stdout);
  }

  /**
   * Runs a batch, in the session when it is up and every line works there; otherwise (a line
   * failed, no answer, no session) spawned, and then the outcome is checked against the
   * kernel's own view, not the exit text. The lines are made as each attempt is issued: an
   * assign's lease counts from then.
   */
  async function batch(lines: () => string[], wantPresent: boolean, vips: readonly Vip[]): Promise<void> {
    if (vips.length === 0) return;
    if (session?.up === true) {
      const issued = lines();
      try {
        if ((await session.run(issued, SESSION_BARRIER)).failed.length === 0) return;
      } catch {
        // in doubt: the old way below decides
      }
    }
    const r = await run('ip', ['-force', '-batch', '-'], () => lines().join('\n') + '\n');
    if (r.code === 0) return;
    const present = await list();
    const wrong = vips.filter((v) => present.has(v.address) !== wantPresent);
    if (wrong.length > 0) throw new CommandError(`ip -batch (${wantPresent ? 'assign' : 'remove'} ${wrong.map((v) => v.address).join(', ')})`, r);
  }

  return {
    list,
    async assign(vips, leaseSec) {
      // The kernel announces an IPv6 address it brings up only with ndisc_notify on.
      for (const iface of new Set(vips.filter((v) => v.family === 6).map((v) => v.iface))) {
        await writeSysctl(`/proc/sys/net/ipv6/conf/${iface}/ndisc_notify`, '1');
      }
      const lines = () => {
        const sec = leaseSec();
        if (sec < 1) throw new FenceTooClose();
        return vips.map((v) => assignLine(v, sec));
      };
      await batch(lines, true, vips);
    },
    remove: (vips) => batch(() => vips.map(removeLine), false, vips),
    close: () => session?.close(),
  };
}
