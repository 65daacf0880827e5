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
 * Every call has a deadline shorter than a renewal period and goes to every member at once, so
 * a member that stopped answering, or sits in a minority, delays nothing past the fence. Record
 * and takeover writes settle only when every member's copy has, so that the next one to the same
 * key cannot be overtaken by it.
 */
import { rootCertificates } from 'node:tls';
import type { CandidateRecord, StoreView } from '../domain/election.js';
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

/** The client's TLS credentials, as etcd3 takes them; undefined without TLS files. */
export interface EtcdCredentials {
  readonly rootCertificate: Buffer;
  readonly certChain?: Buffer;
  readonly privateKey?: Buffer;
}

/**
 * The credentials from the files read. A client certificate without ca_file still trusts the
 * system's CAs: the root certificates must then be given as they are, for an empty set would
 * trust no server at all.
 */
export function credentialsOf(tls: EtcdStoreOptions['tls']): EtcdCredentials | undefined {
  if (tls === null) return undefined;
  return {
    rootCertificate: tls.ca ?? Buffer.from(rootCertificates.join('\n')),
    ...(tls.cert === null ? {} : { certChain: tls.cert }),
    ...(tls.key === null ? {} : { privateKey: tls.key }),
  };
}

export async function connectEtcdStore(o: EtcdStoreOptions): Promise<ElectionStore> {
  const [{ Etcd3 }, { ConstantBackoff, noop }] = await Promise.all([import('etcd3'), import('cockatiel')]);
  const deadline = () => new Date(o.wallNow() + o.callTimeoutMs);
  const credentials = credentialsOf(o.tls);
  // One client per member, and every call raced across them: a member cut off from the others
  // (or from us) costs nothing as long as one of the majority answers, where a shared pool would
  // send a share of the keepalives to it and lose them. Retries are ours (daemon/quorum.ts).
  const clients = o.endpoints.map(
    (host) =>
      new Etcd3({
        hosts: host,
        ...(credentials === undefined ? {} : { credentials }),
        dialTimeout: o.callTimeoutMs,
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: deadline() }),
        faultHandling: { global: noop, host: () => noop, watchBackoff: new ConstantBackoff(o.watchRetryMs).next() },
      }),
  );
  type Client = (typeof clients)[number];
  /** The first member's answer; fails only when every member failed (with the first error). */
  const anyMember = <T>(call: (client: Client) => Promise<T>): Promise<T> => Promise.any(clients.map(call)).catch((err: AggregateError) => Promise.reject(err.errors[0] as Error));
  /**
   * Like anyMember, but settled only once every member's copy has (each within its deadline): a
   * record or takeover is written again only after that (daemon/quorum.ts), so a copy of an older
   * write still on its way through a slow member cannot commit after the newer one.
   */
  const everyMember = async <T>(call: (client: Client) => Promise<T>): Promise<T> => {
    const results = await Promise.allSettled(clients.map(call));
    const answered = results.find((r) => r.status === 'fulfilled');
    if (answered !== undefined) return answered.value;
    throw (results[0] as PromiseRejectedResult).reason;
  };
  const nodeKey = (node: string) => `${o.prefix}nodes/${node}`;
  const groupKey = (group: string) => `${o.prefix}groups/${group}`;
  const takeoverKey = `${o.prefix}takeover`;

  /** One keepalive on one member's stream: the TTL it restarted, 0 when the lease is gone. */
  async function keepaliveOn(client: Client, leaseId: string): Promise<number> {
    const stream = await client.leaseClient.leaseKeepAlive({ deadline: deadline() });
    try {
      const res = await new Promise<{ TTL: string }>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ ID: leaseId });
      });
      return Number(res.TTL);
    } finally {
      stream.end();
    }
  }

  return {
    async grant(ttlSec) {
      // Not raced: each member that answered would grant a lease of its own. The first that answers wins.
      let last: unknown = new Error('no etcd endpoint');
      for (const client of clients) {
        try {
          return (await client.leaseClient.leaseGrant({ TTL: ttlSec })).ID;
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
    keepalive: (leaseId) => anyMember((c) => keepaliveOn(c, leaseId)),
    async revoke(leaseId) {
      await anyMember((c) => c.leaseClient.leaseRevoke({ ID: leaseId }));
    },
    read: () =>
      anyMember(async (c) => {
        const res = await c.getAll().prefix(o.prefix).exec();
        const candidates = new Map<string, CandidateRecord>();
        const holders = new Map<string, string>();
        const holderLeases = new Map<string, string>();
        let takeover: StoreView['takeover'] = null;
        // Keys this version does not know are left alone.
        for (const kv of res.kvs) {
          const rest = kv.key.toString().slice(o.prefix.length);
          if (rest.startsWith('nodes/')) candidates.set(rest.slice('nodes/'.length), recordOf(kv.value.toString()));
          else if (rest.startsWith('groups/')) {
            holders.set(rest.slice('groups/'.length), kv.value.toString());
            holderLeases.set(rest.slice('groups/'.length), String(kv.lease));
          } else if (rest === 'takeover') takeover = { node: kv.value.toString(), epoch: Number(kv.mod_revision) };
        }
        return { candidates, holders, holderLeases, takeover };
      }),
    async register(leaseId, node, record) {
      await everyMember((c) => c.put(nodeKey(node)).value(JSON.stringify(record)).lease(leaseId).exec());
    },
    claim(leaseId, group, node) {
      // Raced too: etcd creates the key once; our own second attempt then finds it ours.
      const key = groupKey(group);
      return anyMember(async (c) => {
        const res = await c.if(key, 'Create', '==', 0).then(c.put(key).value(node).lease(leaseId)).else(c.get(key)).commit();
        if (res.succeeded) return true;
        const kv = res.responses[0]?.response_range?.kvs[0];
        return kv !== undefined && kv.value.toString() === node && String(kv.lease) === leaseId;
      });
    },
    async resign(leaseId, group) {
      const key = groupKey(group);
      await anyMember((c) => c.if(key, 'Lease', '==', leaseId).then(c.delete().key(key)).commit());
    },
    async takeover(node) {
      await everyMember((c) => c.put(takeoverKey).value(node).exec());
    },
    watch(onChange) {
      for (const client of clients) {
        void client
          .watch()
          .prefix(o.prefix)
          .create()
          .then((watcher) => {
            watcher.on('put', () => onChange());
            watcher.on('delete', () => onChange());
            // Reconnected, or lost: what happened meanwhile is read again.
            watcher.on('connected', () => onChange());
            watcher.on('disconnected', () => onChange());
            watcher.on('error', () => onChange());
          }, onChange);
      }
    },
    close() {
      for (const client of clients) client.close();
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
