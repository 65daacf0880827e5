/**
 * Reading processes from /proc: who belongs to a daemon (its descendants, or its session for
 * daemons that detach), their memory and CPU time. Linux only; read-only except `killExact`,
 * which signals one PID only if it is still the very process that was seen (same start time).
 */
import fs from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** Clock ticks (see CLK_TCK): own user/system time, and that of waited-for children. */
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
  /** Clock ticks since boot; with the pid, it names one process for its whole life. */
  readonly starttime: number;
}

/** USER_HZ: 100 on every Linux architecture Node supports (sysconf(_SC_CLK_TCK)). */
export const CLK_TCK = 100;

export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: it ends at the LAST ')'
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  const n = (i: number): number => Number(f[i]);
  // fields after comm, 0-based: 0 state, 1 ppid, 2 pgrp, 3 session, 11 utime, 12 stime,
  // 13 cutime, 14 cstime, 19 starttime
  return {
    pid,
    comm,
    state: f[0] ?? '?',
    ppid: n(1),
    pgrp: n(2),
    session: n(3),
    utime: n(11),
    stime: n(12),
    cutime: n(13),
    cstime: n(14),
    starttime: n(19),
  };
}

export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s !== null) out.push(s);
  }
  return out;
}

const live = (s: ProcStat): boolean => s.state !== 'Z' && s.state !== 'X';

/** `root` and every live process below it, root first. */
export function descendants(root: number, stats: readonly ProcStat[] = allStats()): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) if (live(s)) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const rootStat = stats.find((s) => s.pid === root);
  if (rootStat === undefined || !live(rootStat)) return [];
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Live members of session `sid`, sorted. A session id stays reserved while any member lives,
 * so this never names a stranger's process.
 */
export function sessionMembers(sid: number, stats: readonly ProcStat[] = allStats()): number[] {
  return stats.filter((s) => s.session === sid && live(s)).map((s) => s.pid).sort((a, b) => a - b);
}

/** A kB figure from /proc/PID/status (VmRSS, VmHWM…), or null if the process is gone. */
export function statusKb(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Proportional set size (shared pages divided among their users), kB. */
export function pssKb(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Sends `signal` to `pid` only if it is still the process seen as `seen` (same start time):
 * a PID that was reused in between is left alone. Returns whether the signal was sent.
 */
export function killExact(seen: ProcStat, signal: NodeJS.Signals): boolean {
  const now = readStat(seen.pid);
  if (now === null || now.starttime !== seen.starttime || !live(now)) return false;
  try {
    process.kill(seen.pid, signal);
    return true;
  } catch {
    return false;
  }
}
