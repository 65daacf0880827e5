/**
 * An in-memory network for tests and engine simulations: every node's transport sends into one
 * queue, and nothing arrives until the test calls `flush()`. Datagrams go to every other started
 * node that has the same path id, as a broadcast medium would, and each link (sender → receiver,
 * on one path or all) can drop, duplicate or delay them. Deterministic: no sockets, no timers.
 */
import type { OnDatagram, PathSendResult, Transport } from '../../sidecar/src/transport/types.js';

export interface LinkRule {
  /** Lose every datagram on this link, as a cut cable or a firewall would. */
  readonly drop?: boolean;
  /** Deliver every datagram twice, as a looping switch or two routes would. */
  readonly duplicate?: boolean;
  /** Hold each datagram this long on the network clock before it can be delivered. */
  readonly delayMs?: number;
}

export interface MemoryNetwork {
  /** A transport for `node`; the address its datagrams arrive from is the node name, port 0. */
  transportFor(node: string, pathIds: readonly string[]): Transport;
  /** Sets the rule for datagrams from `from` to `to`: on `path` only, or on every path when omitted. A path rule wins. */
  link(from: string, to: string, rule: LinkRule, path?: string): void;
  /** Forgets every rule: all links deliver at once again. */
  heal(): void;
  /**
   * Delivers, oldest first, every queued datagram that is due. Datagrams sent while this runs
   * (replies) wait for the next flush, so one flush is one hop. Returns how many were delivered.
   */
  flush(): number;
  /** Datagrams sent and not yet delivered or lost. */
  readonly pending: number;
}

interface Endpoint {
  readonly node: string;
  readonly pathIds: readonly string[];
  onDatagram: OnDatagram | null;
}

interface InFlight {
  readonly to: Endpoint;
  readonly from: string;
  readonly path: string;
  readonly bytes: Buffer;
  readonly dueAt: number;
  readonly order: number;
}

/** `now` is the network clock that `delayMs` counts on; tests pass their fake clock. */
export function createMemoryNetwork(opts: { readonly now?: () => number } = {}): MemoryNetwork {
  const now = opts.now ?? (() => 0);
  const endpoints: Endpoint[] = [];
  const rules = new Map<string, LinkRule>();
  let queue: InFlight[] = [];
  let sent = 0;

  const ruleKey = (from: string, to: string, path?: string): string => JSON.stringify([from, to, path ?? null]);

  function ruleFor(from: string, to: string, path: string): LinkRule {
    return rules.get(ruleKey(from, to, path)) ?? rules.get(ruleKey(from, to)) ?? {};
  }

  function transportFor(node: string, pathIds: readonly string[]): Transport {
    const self: Endpoint = { node, pathIds, onDatagram: null };
    endpoints.push(self);

    async function send(bytes: Buffer): Promise<PathSendResult[]> {
      if (self.onDatagram === null) return pathIds.map((path) => ({ path, ok: false, error: 'transport not started' }));
      for (const path of pathIds) {
        for (const to of endpoints) {
          if (to.node === node || to.onDatagram === null || !to.pathIds.includes(path)) continue;
          const rule = ruleFor(node, to.node, path);
          if (rule.drop === true) continue;
          const copies = rule.duplicate === true ? 2 : 1;
          for (let i = 0; i < copies; i++) {
            queue.push({ to, from: node, path, bytes: Buffer.from(bytes), dueAt: now() + (rule.delayMs ?? 0), order: sent++ });
          }
        }
      }
      // Like UDP, a send succeeds when the datagram leaves, whatever becomes of it.
      return pathIds.map((path) => ({ path, ok: true }));
    }

    return {
      pathIds,
      start: async (onDatagram) => {
        self.onDatagram = onDatagram;
      },
      send,
      stop: async () => {
        self.onDatagram = null;
      },
    };
  }

  function flush(): number {
    const at = now();
    const due = queue.filter((d) => d.dueAt <= at).sort((x, y) => x.dueAt - y.dueAt || x.order - y.order);
    queue = queue.filter((d) => d.dueAt > at);
    let delivered = 0;
    for (const d of due) {
      // A receiver that stopped meanwhile loses it, as a closed socket would.
      if (d.to.onDatagram === null) continue;
      d.to.onDatagram(d.bytes, d.path, { address: d.from, port: 0 });
      delivered++;
    }
    return delivered;
  }

  return {
    transportFor,
    link: (from, to, rule, path) => void rules.set(ruleKey(from, to, path), rule),
    heal: () => rules.clear(),
    flush,
    get pending() {
      return queue.length;
    },
  };
}
