/**
 * A deterministic cluster of engines on a simulated clock and network, for scenario tests and
 * the seeded fault simulator. It plays the runtime's part: ticks, delivers datagrams, and runs
 * acquire/release against a model of the VIP (present or not, with a kernel lease that lapses
 * when nobody renews it).
 */
import { createEngine, nextClaimDeadline, type Engine } from '../../sidecar/src/engine/engine.js';
import type { Action, EngineEvent, EngineSettings, EngineState } from '../../sidecar/src/engine/types.js';
import type { Message } from '../../sidecar/src/wire/types.js';

export interface SimOptions {
  readonly tickMs?: number;
  readonly latencyMs?: number;
  /** Time an acquire or release takes to apply (ip, arping). */
  readonly applyMs?: number;
  readonly leaseMs?: number;
  readonly paths?: readonly string[];
  /** Decides per datagram whether it is lost; deterministic tests leave it out. */
  readonly lose?: (from: string, to: string, path: string) => boolean;
  /** Decides per datagram whether it is delivered twice. */
  readonly duplicate?: (from: string, to: string, path: string) => boolean;
  /** Extra delay per datagram, for reordering. */
  readonly jitter?: (from: string, to: string, path: string) => number;
}

interface Scheduled {
  readonly at: number;
  readonly order: number;
  readonly node: string;
  readonly event: EngineEvent;
  /** A change to the node's VIP, made just before the event is delivered (the executor's work). */
  readonly effect?: (node: SimNode) => void;
  /** Events of a process that has since been restarted must not reach the new one. */
  readonly incarnation: number;
  /** A wake-up at a claim deadline, outside the regular tick chain. */
  readonly wake?: boolean;
}

export interface SimNode {
  readonly name: string;
  readonly engine: Engine;
  state: EngineState;
  running: boolean;
  frozenUntil: number | null;
  incarnation: number;
  /** Group id → time the kernel lease of its VIP lapses; absent when the VIP is not present. */
  readonly vipLeaseEnds: Map<string, number>;
  readonly log: Action[];
}

export class SimCluster {
  now = 0;
  /** Every group transition any node made, for flapping checks without scanning the logs. */
  transitions = 0;
  readonly nodes = new Map<string, SimNode>();
  private readonly queue = new EventHeap();
  /** receiver>sender → newest generation and sequence accepted, as the runtime's replay guard does. */
  private readonly newest = new Map<string, { generation: number; seq: number }>();
  private order = 0;
  private generationClock = 1;
  private readonly blocked = new Set<string>();
  private readonly tickMs: number;
  private readonly latencyMs: number;
  private readonly applyMs: number;
  private readonly leaseMs: number;
  readonly paths: readonly string[];

  constructor(
    private readonly settings: readonly EngineSettings[],
    private readonly options: SimOptions = {},
  ) {
    const ka = settings[0]!.timing.keepaliveMs;
    this.tickMs = options.tickMs ?? Math.max(1, Math.min(50, Math.floor(ka / 2)));
    this.latencyMs = options.latencyMs ?? 1;
    this.applyMs = options.applyMs ?? 5;
    this.leaseMs = options.leaseMs ?? Math.max(2000, Math.ceil(settings[0]!.timing.deadtimeMs / 1000) * 1000);
    this.paths = options.paths ?? ['ucast:eth0'];
    for (const s of settings) this.boot(s);
  }

  private boot(s: EngineSettings): void {
    for (const key of [...this.newest.keys()]) if (key.startsWith(`${s.node}>`)) this.newest.delete(key);
    const engine = createEngine(s);
    const previous = this.nodes.get(s.node);
    const node: SimNode = {
      name: s.node,
      engine,
      state: engine.initial(this.now, this.generationClock++),
      running: true,
      frozenUntil: null,
      incarnation: (previous?.incarnation ?? 0) + 1,
      // A starting daemon removes any VIP an earlier run left behind.
      vipLeaseEnds: new Map(),
      log: previous?.log ?? [],
    };
    this.nodes.set(s.node, node);
    this.schedule(node, this.now, { type: 'tick' });
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Nodes on which the group's VIP is present right now. */
  holders(group: string): string[] {
    const out: string[] = [];
    for (const n of this.nodes.values()) {
      const ends = n.vipLeaseEnds.get(group);
      if (ends !== undefined && ends > this.now) out.push(n.name);
    }
    return out.sort();
  }

  running(name: string): boolean {
    return this.node(name).running;
  }

  claims(group: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of this.nodes.values()) if (n.running) out[n.name] = n.state.groups[group]!.claim;
    return out;
  }

  send(name: string, event: EngineEvent): void {
    this.deliver(this.node(name), event);
  }

  crash(name: string): void {
    const n = this.node(name);
    n.running = false;
    n.frozenUntil = null;
  }

  restart(name: string): void {
    const s = this.settings.find((x) => x.node === name)!;
    this.boot(s);
  }

  /** The process is frozen (SIGSTOP, VM pause): nothing runs, datagrams wait in its socket. */
  freeze(name: string, forMs: number): void {
    this.node(name).frozenUntil = this.now + forMs;
  }

  partition(a: string, b: string, oneWay = false): void {
    this.blocked.add(`${a}>${b}`);
    if (!oneWay) this.blocked.add(`${b}>${a}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Runs the cluster for `ms`, calling `check` after every event. */
  advance(ms: number, check?: (sim: SimCluster) => void): void {
    const until = this.now + ms;
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.at > until) break;
      this.queue.pop();
      this.now = next.at;
      const node = this.nodes.get(next.node)!;
      if (!node.running || node.incarnation !== next.incarnation) continue;
      if (node.frozenUntil !== null && node.frozenUntil > this.now) {
        this.queue.push({ ...next, at: node.frozenUntil, order: this.order++ });
        continue;
      }
      node.frozenUntil = null;
      if (next.event.type === 'tick' && next.wake !== true) {
        this.schedule(node, this.now + this.tickMs, { type: 'tick' });
        // The runtime renews the lease of every VIP it has while it runs.
        for (const group of node.vipLeaseEnds.keys()) {
          if (node.vipLeaseEnds.get(group)! > this.now) node.vipLeaseEnds.set(group, this.now + this.leaseMs);
        }
      }
      next.effect?.(node);
      if (next.event.type === 'message' && !this.fresh(`${node.name}>${next.event.path}`, next.event.message)) continue;
      this.deliver(node, next.event);
      check?.(this);
    }
    this.now = until;
  }

  /** Datagrams that arrive late or twice are dropped, as the runtime's ReplayGuard drops them. */
  private fresh(receiverPath: string, m: Message): boolean {
    const key = `${receiverPath}>${m.node}`;
    const seen = this.newest.get(key);
    if (seen !== undefined && (m.generation < seen.generation || (m.generation === seen.generation && m.seq <= seen.seq))) return false;
    this.newest.set(key, { generation: m.generation, seq: m.seq });
    return true;
  }

  private deliver(node: SimNode, event: EngineEvent): void {
    const { state, actions } = node.engine.step(node.state, event, this.now);
    const hadDeadline = nextClaimDeadline(node.state);
    // As the runtime does: after a pause, `resumed` once the datagrams queued meanwhile are in.
    if (state.pausedAt !== null && node.state.pausedAt === null) this.schedule(node, this.now, { type: 'resumed' });
    node.state = state;
    const deadline = nextClaimDeadline(state);
    if (deadline !== null && deadline !== hadDeadline) {
      this.queue.push({ at: deadline, order: this.order++, node: node.name, event: { type: 'tick' }, incarnation: node.incarnation, wake: true });
    }
    for (const a of actions) {
      if (a.type === 'transition') this.transitions++;
      node.log.push(a);
      this.run(node, a);
    }
  }

  private run(node: SimNode, action: Action): void {
    switch (action.type) {
      case 'send':
        this.broadcast(node.name, action.message);
        return;
      case 'acquire':
        this.schedule(node, this.now + this.applyMs, { type: 'acquired', group: action.group }, (n) =>
          n.vipLeaseEnds.set(action.group, this.now + this.leaseMs),
        );
        return;
      case 'release':
        this.schedule(node, this.now + this.applyMs, { type: 'released', group: action.group }, (n) =>
          n.vipLeaseEnds.delete(action.group),
        );
        return;
      default:
        return;
    }
  }

  private broadcast(from: string, message: Message): void {
    for (const to of this.nodes.keys()) {
      if (to === from) continue;
      for (const path of this.paths) {
        if (this.blocked.has(`${from}>${to}`)) continue;
        if (this.options.lose?.(from, to, path)) continue;
        const copies = this.options.duplicate?.(from, to, path) ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          const delay = this.latencyMs + (this.options.jitter?.(from, to, path) ?? 0);
          this.schedule(this.node(to), this.now + delay, { type: 'message', path, message });
        }
      }
    }
  }

  private schedule(node: SimNode, at: number, event: EngineEvent, effect?: (node: SimNode) => void): void {
    this.queue.push({ at, order: this.order++, node: node.name, event, incarnation: node.incarnation, ...(effect ? { effect } : {}) });
  }
}

/** A binary min-heap on (at, order): the simulator's event queue. */
class EventHeap {
  private readonly items: Scheduled[] = [];

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.order < y.order);
}
