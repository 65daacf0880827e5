/**
 * The election store on etcd, through the `etcd3` client (docs/etcd.md, Keys). Loaded with a
 * dynamic import only when election is etcd: the client and its gRPC stack cost the heartbeat
 * daemon nothing.
 *
 *   PREFIX nodes/NODE     this node's candidacy (JSON), under its lease
 *   PREFIX groups/GROUP   the group's owner (a node name), under the owner's lease
 *   PREFIX takeover       the node of the latest takeover; its revision is the epoch (no lease)
 *
 * A group key is only ever created when absent (a transaction on its create revision) and only
 * deleted under the lease that created it, so etcd, not this client, decides who owns a group.
 * Every unary call has a deadline shorter than a renewal period, so a member that stopped
 * answering delays nothing past the fence; the client retries on another member.
 */
import type { CandidateRecord, StoreChange, StoreView } from '../domain/election.js';
import type { ElectionStore } from './types.js';

export interface EtcdStoreOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  /** PEM bytes read by the caller from the configured files; null without TLS files. */
  readonly tls: { readonly ca: Buffer | null; readonly cert: Buffer | null; readonly key: Buffer | null } | null;
  /** Deadline of each call. */
  readonly callTimeoutMs: number;
  /** The wall clock, for gRPC's deadlines (which are dates). */
  readonly wallNow: () => number;
  /** How long a broken watch waits before it connects again. */
  readonly watchRetryMs: number;
}

export async function connectEtcdStore(o: EtcdStoreOptions): Promise<ElectionStore> {
  const [{ Etcd3 }, { ConstantBackoff }] = await Promise.all([import('etcd3'), import('cockatiel')]);
  const deadline = () => new Date(o.wallNow() + o.callTimeoutMs);
  const credentials = o.tls === null ? undefined : { rootCertificate: o.tls.ca ?? Buffer.alloc(0), ...(o.tls.key === null ? {} : { privateKey: o.tls.key }), ...(o.tls.cert === null ? {} : { certChain: o.tls.cert }) };
  const client = new Etcd3({
    hosts: [...o.endpoints],
    ...(credentials === undefined ? {} : { credentials }),
    dialTimeout: o.callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: deadline() }),
    faultHandling: { watchBackoff: new ConstantBackoff(o.watchRetryMs).next() },
  });
  const leases = new Map<string, ReturnType<typeof client.lease>>();
  const nodeKey = (node: string) => `${o.prefix}nodes/${node}`;
  const groupKey = (group: string) => `${o.prefix}groups/${group}`;
  const takeoverKey = `${o.prefix}takeover`;

  /** What a key under the prefix means; null for keys this version does not know. */
  function changeOf(key: string, value: string | null, modRevision: string): StoreChange | null {
    const rest = key.slice(o.prefix.length);
    if (rest.startsWith('nodes/')) return { kind: 'candidate', node: rest.slice('nodes/'.length), record: value === null ? null : recordOf(value) };
    if (rest.startsWith('groups/')) return { kind: 'holder', group: rest.slice('groups/'.length), node: value };
    if (rest === 'takeover') return { kind: 'takeover', takeover: value === null ? null : { node: value, epoch: Number(modRevision) } };
    return null;
  }

  return {
    async grant(ttlSec) {
      const lease = client.lease(ttlSec, { autoKeepAlive: false });
      // A failed grant is reported here; the lease's own 'lost' event would say it again.
      lease.on('lost', () => undefined);
      const id = await lease.grant();
      leases.set(id, lease);
      return id;
    },
    async keepalive(leaseId) {
      const lease = leases.get(leaseId);
      if (lease === undefined) return 0;
      try {
        const res = await lease.keepaliveOnce({ deadline: deadline() });
        return Number(res.TTL);
      } catch (err) {
        if ((err as Error).name === 'EtcdLeaseInvalidError') {
          leases.delete(leaseId);
          return 0;
        }
        throw err;
      }
    },
    async revoke(leaseId) {
      const lease = leases.get(leaseId);
      leases.delete(leaseId);
      await lease?.revoke({ deadline: deadline() });
    },
    async read() {
      const res = await client.getAll().prefix(o.prefix).exec();
      const candidates = new Map<string, CandidateRecord>();
      const holders = new Map<string, string>();
      let takeover: StoreView['takeover'] = null;
      for (const kv of res.kvs) {
        const change = changeOf(kv.key.toString(), kv.value.toString(), kv.mod_revision);
        if (change?.kind === 'candidate' && change.record !== null) candidates.set(change.node, change.record);
        else if (change?.kind === 'holder' && change.node !== null) holders.set(change.group, change.node);
        else if (change?.kind === 'takeover') takeover = change.takeover;
      }
      return { candidates, holders, takeover };
    },
    async register(leaseId, node, record) {
      await client.put(nodeKey(node)).value(JSON.stringify(record)).lease(leaseId).exec();
    },
    async claim(leaseId, group, node) {
      const key = groupKey(group);
      const res = await client.if(key, 'Create', '==', 0).then(client.put(key).value(node).lease(leaseId)).commit();
      return res.succeeded;
    },
    async resign(leaseId, group) {
      const key = groupKey(group);
      await client.if(key, 'Lease', '==', leaseId).then(client.delete().key(key)).commit();
    },
    async takeover(node) {
      await client.put(takeoverKey).value(node).exec();
    },
    watch(onChange, onGap) {
      void client
        .watch()
        .prefix(o.prefix)
        .create()
        .then((watcher) => {
          watcher.on('put', (kv) => {
            const change = changeOf(kv.key.toString(), kv.value.toString(), kv.mod_revision);
            if (change !== null) onChange(change);
          });
          watcher.on('delete', (kv) => {
            const change = changeOf(kv.key.toString(), null, kv.mod_revision);
            if (change !== null) onChange(change);
          });
          // Reconnected: what happened meanwhile is read again rather than trusted to the resume.
          watcher.on('connected', () => onGap());
          watcher.on('disconnected', () => onGap());
          watcher.on('error', () => onGap());
        }, onGap);
    },
    close() {
      client.close();
    },
  };
}

/** A node record as written by register(); a malformed one counts as an unfit candidate. */
function recordOf(text: string): CandidateRecord {
  try {
    const r = JSON.parse(text) as Partial<CandidateRecord>;
    return { priority: Number(r.priority ?? 0), healthy: r.healthy === true, standby: r.standby === true, maintenance: r.maintenance === true };
  } catch {
    return { priority: 0, healthy: false, standby: false, maintenance: true };
  }
}
