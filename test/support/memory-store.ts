/**
 * An in-memory election store with etcd's rules, on the fake clock: leases expire at the moment
 * their TTL runs out after the last keepalive the "server" received (no sooner), their keys go
 * with them, a group key is created only when absent and deleted only under its own lease. Each
 * node connects on its own; `cut(node)` makes that node's calls fail, as a partition would, while
 * the others go on.
 */
import type { Timers, Clock } from '../../sidecar/src/clock.js';
import type { CandidateRecord, StoreView } from '../../sidecar/src/domain/election.js';
import type { ElectionStore } from '../../sidecar/src/store/types.js';

interface Entry {
  readonly value: string;
  readonly lease: string | null;
  readonly revision: number;
}

export class MemoryEtcd {
  private readonly keys = new Map<string, Entry>();
  private readonly leases = new Map<string, { expiresAt: number; ttlSec: number }>();
  private readonly watchers = new Set<() => void>();
  private readonly unreachable = new Set<string>();
  private revision = 0;
  private nextLease = 1;
  /** Every moment a lease ended on the "server", by lease id. */
  readonly expired = new Map<string, number>();

  constructor(private readonly time: Clock & Timers) {}

  cut(node: string): void {
    this.unreachable.add(node);
  }

  heal(node: string): void {
    this.unreachable.delete(node);
  }

  /** The owner of a group now, as the server has it. */
  holder(group: string): string | null {
    this.expire();
    return this.keys.get(`groups/${group}`)?.value ?? null;
  }

  /** A node's published candidacy, as the server has it. */
  record(node: string): { maintenance?: boolean; standby?: boolean; healthy?: boolean } | null {
    this.expire();
    const raw = this.keys.get(`nodes/${node}`)?.value;
    return raw === undefined ? null : (JSON.parse(raw) as { maintenance?: boolean });
  }

  /** When the lease holding a group key can expire at the earliest, or null. */
  leaseOf(id: string): { expiresAt: number } | undefined {
    return this.leases.get(id);
  }

  connect(node: string): ElectionStore {
    const call = async <T>(f: () => T): Promise<T> => {
      await Promise.resolve();
      if (this.unreachable.has(node)) throw new Error(`${node} cannot reach etcd`);
      this.expire();
      return f();
    };
    return {
      grant: (ttlSec) =>
        call(() => {
          const id = `L${this.nextLease++}`;
          this.leases.set(id, { expiresAt: this.time.now() + ttlSec * 1000, ttlSec });
          this.time.setTimeout(() => this.expire(), ttlSec * 1000);
          return id;
        }),
      keepalive: (id) =>
        call(() => {
          const lease = this.leases.get(id);
          if (lease === undefined) return 0;
          lease.expiresAt = this.time.now() + lease.ttlSec * 1000;
          this.time.setTimeout(() => this.expire(), lease.ttlSec * 1000);
          return lease.ttlSec;
        }),
      revoke: (id) => call(() => this.endLease(id)),
      read: () => call(() => this.view()),
      register: (id, n, record) => call(() => this.put(`nodes/${n}`, JSON.stringify(record), this.liveLease(id))),
      claim: (id, group, n) =>
        call(() => {
          if (this.keys.has(`groups/${group}`)) return false;
          this.put(`groups/${group}`, n, this.liveLease(id));
          return true;
        }),
      resign: (id, group) =>
        call(() => {
          if (this.keys.get(`groups/${group}`)?.lease === id) this.delete(`groups/${group}`);
        }),
      takeover: (n) => call(() => this.put('takeover', n, null)),
      watch: (onChange) => void this.watchers.add(() => (this.unreachable.has(node) ? undefined : onChange())),
      close: () => undefined,
    };
  }

  private liveLease(id: string): string {
    if (!this.leases.has(id)) throw new Error(`lease ${id} not found`);
    return id;
  }

  private view(): StoreView {
    const candidates = new Map<string, CandidateRecord>();
    const holders = new Map<string, string>();
    const holderLeases = new Map<string, string>();
    let takeover: StoreView['takeover'] = null;
    for (const [key, e] of this.keys) {
      if (key.startsWith('nodes/')) candidates.set(key.slice(6), JSON.parse(e.value) as CandidateRecord);
      else if (key.startsWith('groups/')) {
        holders.set(key.slice(7), e.value);
        if (e.lease !== null) holderLeases.set(key.slice(7), e.lease);
      } else if (key === 'takeover') takeover = { node: e.value, epoch: e.revision };
    }
    return { candidates, holders, holderLeases, takeover };
  }

  private put(key: string, value: string, lease: string | null): void {
    this.keys.set(key, { value, lease, revision: ++this.revision });
    this.notify();
  }

  private delete(key: string): void {
    this.keys.delete(key);
    this.revision++;
    this.notify();
  }

  private notify(): void {
    for (const w of this.watchers) w();
  }

  private endLease(id: string): void {
    if (!this.leases.delete(id)) return;
    this.expired.set(id, this.time.now());
    for (const [key, e] of [...this.keys]) if (e.lease === id) this.delete(key);
  }

  private expire(): void {
    for (const [id, l] of [...this.leases]) if (l.expiresAt <= this.time.now()) this.endLease(id);
  }
}
