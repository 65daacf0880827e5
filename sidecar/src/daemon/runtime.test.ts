/**
 * The runtime in process: two runtimes joined by an in-memory datagram link, a fake clock and
 * timers, and an in-memory interface, so the loop (decode, replay guard, apply queue, reconcile,
 * shutdown) is exercised without sockets, `ip` or sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Vip } from '../domain/groups.js';
import { createMetrics } from '../metrics/index.js';
import type { Announcer } from '../resources/announce.js';
import type { AddressEvent, AddressWatch } from '../resources/ip-monitor.js';
import { FenceTooClose, type PresentAddress, type VipDriver } from '../resources/ipaddr.js';
import { FakeTime } from '../../../test/support/fake-time.js';
import { createRuntime, type DatagramTransport, type GroupResources, type Runtime } from './runtime.js';
import { statusSnapshotSchema } from './status.js';

const VIP: Vip = { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 };
const KEY = { id: 1, method: 'sha256' as const, secret: Buffer.from('s3cret') };

function configFor(node: string): Config {
  return {
    source: { kind: 'yaml', files: [] },
    node,
    nodes: [
      { name: 'alpha', priority: 0 },
      { name: 'beta', priority: 0 },
    ],
    port: 694,
    paths: [{ kind: 'ucast', iface: 'eth0', peers: [] }],
    timing: { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 },
    autoFailback: true,
    election: { backend: 'heartbeat' },
    groups: [{ id: 'web', preferred: 'alpha', vips: [VIP] }],
    auth: { sendKeyId: 1, keys: [KEY] },
    pingNodes: [],
    api: { host: '127.0.0.1', port: 0, tokenFile: null },
    vipLeaseSec: 2,
    reconcileMs: 500,
    garp: { burst: 3, repeatAfterMs: 1000, refreshMs: 0 },
    notifyCommand: null,
    log: { level: 'fatal', file: null },
  };
}

class FakeInterface implements VipDriver {
  readonly addresses = new Map<string, PresentAddress>();
  assigns = 0;
  lists = 0;
  /** The addresses of each assign call, in order. */
  readonly assigned: string[][] = [];
  failNext = 0;
  /** What the kernel tells a monitor of each change, when one listens. */
  kernelEvent: ((event: AddressEvent) => void) | null = null;
  async list(): Promise<Map<string, PresentAddress>> {
    this.lists++;
    return new Map(this.addresses);
  }
  async assign(vips: readonly Vip[], leaseAt: () => number): Promise<void> {
    const leaseSec = leaseAt();
    if (leaseSec < 1) throw new FenceTooClose();
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('RTNETLINK answers: Operation not permitted');
    }
    this.assigns++;
    this.assigned.push(vips.map((v) => v.address));
    for (const v of vips) this.add({ iface: v.iface, address: v.address, prefixLength: v.prefixLength, label: v.label, validLifeSec: leaseSec });
  }
  async remove(vips: readonly Vip[]): Promise<void> {
    for (const v of vips) this.delete(v.address);
  }
  /** A change made on the interface (by us or by hand), as the kernel reports it. */
  add(address: PresentAddress): void {
    this.addresses.set(address.address, address);
    this.kernelEvent?.({ type: 'added', address });
  }
  delete(address: string): void {
    const gone = this.addresses.get(address);
    if (gone === undefined) return;
    this.addresses.delete(address);
    this.kernelEvent?.({ type: 'deleted', address: gone });
  }
}

/** A monitor that hears the fake interface's kernel events while the test says it runs. */
class FakeWatch implements AddressWatch {
  up = false;
  private on: ((event: AddressEvent) => void) | null = null;
  constructor(iface: FakeInterface) {
    iface.kernelEvent = (e) => {
      if (this.up) this.on?.(e);
    };
  }
  start(on: (event: AddressEvent) => void): void {
    this.on = on;
    this.resync();
  }
  stop(): void {
    this.up = false;
  }
  resync(): void {
    this.up = true;
    this.on?.({ type: 'resync', reason: 'monitor started' });
  }
  down(): void {
    this.up = false;
    this.on?.({ type: 'down', reason: 'exited 1' });
  }
}

interface Host {
  runtime: Runtime;
  iface: FakeInterface;
  announced: string[];
  registry: Registry;
  inject: (bytes: Buffer) => void;
  sent: Buffer[];
  watch: FakeWatch | null;
}

function pair(time: FakeTime, opts: { staleOn?: string; refreshMs?: number; resources?: (node: string) => GroupResources; logs?: string[]; watched?: boolean; groups?: Config['groups']; silenced?: Set<string>; onPeerLate?: (node: string) => void; announcer?: (node: string) => Announcer } = {}): Record<'alpha' | 'beta', Host> {
  const receivers = new Map<string, (bytes: Buffer) => void>();
  const hosts = {} as Record<'alpha' | 'beta', Host>;
  for (const node of ['alpha', 'beta'] as const) {
    const other = node === 'alpha' ? 'beta' : 'alpha';
    const iface = new FakeInterface();
    if (opts.staleOn === node) iface.addresses.set(VIP.address, { iface: 'eth0', address: VIP.address, prefixLength: 24, label: null, validLifeSec: 1 });
    const announced: string[] = [];
    const sent: Buffer[] = [];
    const transport: DatagramTransport = {
      pathIds: ['ucast:eth0'],
      async start(on) {
        receivers.set(node, (b) => on(b, 'ucast:eth0', { address: '10.77.0.1', port: 694 }));
      },
      async send(bytes) {
        sent.push(bytes);
        if (opts.silenced?.has(node) !== true) receivers.get(other)?.(bytes);
        return [{ path: 'ucast:eth0', ok: true }];
      },
      async stop() {
        receivers.delete(node);
      },
    };
    const announcer: Announcer = opts.announcer?.(node) ?? {
      announce: async (vips) => {
        announced.push(...vips.map((v) => v.address));
        return { failed: [] };
      },
    };
    const registry = new Registry();
    const watch = opts.watched === true ? new FakeWatch(iface) : null;
    const runtime = createRuntime({
      config: { ...configFor(node), garp: { burst: 3, repeatAfterMs: 1000, refreshMs: opts.refreshMs ?? 0 }, ...(opts.groups ? { groups: opts.groups } : {}) },
      configHash: 'test',
      generation: 1_700_000_000_000 + (node === 'alpha' ? 1 : 2),
      transport,
      vips: iface,
      ...(watch !== null ? { addresses: watch } : {}),
      announcer,
      notifier: { notify: () => {} },
      metrics: createMetrics(registry, { version: 'test', node }),
      logger: opts.logs === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, { write: (line: string) => void opts.logs!.push(`${node} ${(JSON.parse(line) as { msg: string }).msg}`) }),
      clock: time,
      timers: time,
      ...(opts.resources ? { resources: opts.resources(node) } : {}),
      ...(opts.onPeerLate ? { onPeerLate: () => opts.onPeerLate!(node) } : {}),
    });
    hosts[node] = { runtime, iface, announced, registry, sent, watch, inject: (b) => receivers.get(node)?.(b) };
  }
  return hosts;
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val));
  return v?.value ?? 0;
}

test('a VIP left by an earlier run is removed before joining, then the preferred node acquires and announces', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { staleOn: 'beta' });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  assert.equal(h.beta.iface.addresses.has(VIP.address), false);
  await time.advance(500);
  assert.equal(h.alpha.iface.addresses.get(VIP.address)?.validLifeSec, 2, 'assigned with the kernel lease');
  assert.equal(h.beta.iface.addresses.has(VIP.address), false);
  assert.deepEqual(h.alpha.announced, [VIP.address]);
  await time.advance(1000);
  assert.deepEqual(h.alpha.announced, [VIP.address, VIP.address], 'the repeat burst after repeat_after');
  await time.advance(1000);
  assert.deepEqual(h.alpha.announced, [VIP.address, VIP.address, VIP.address], 'and a second one, past any locktime another burst began');
  const s = h.beta.runtime.snapshot();
  assert.equal(s.groups[0]!.holder, 'alpha');
  assert.equal(s.rscstatus, 'none');
  assert.equal(h.alpha.runtime.snapshot().rscstatus, 'all');
  assert.deepEqual(s.election, { backend: 'heartbeat' }, '/status names the election that decides');
  assert.deepEqual(statusSnapshotSchema.parse(JSON.parse(JSON.stringify(s))).election, { backend: 'heartbeat' });
});

test('reconcile restores a VIP someone deleted, and removes one someone added on the standby', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  h.alpha.iface.addresses.delete(VIP.address);
  h.beta.iface.addresses.set(VIP.address, { iface: 'eth0', address: VIP.address, prefixLength: 24, label: null, validLifeSec: null });
  await time.advance(500);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'restored within one reconcile period');
  assert.equal(h.beta.iface.addresses.has(VIP.address), false, 'stray removed within one reconcile period');
  assert.ok(h.alpha.announced.length >= 2, 'announced again after the restore');
});

test('the lease is renewed while held', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const before = h.alpha.iface.assigns;
  await time.advance(2000);
  assert.ok(h.alpha.iface.assigns >= before + 3, `renewed ${h.alpha.iface.assigns - before} times in 2 s`);
});

test('an ip failure is retried, counted, and the VIP ends up assigned', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  h.alpha.iface.failNext = 2;
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(2000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address));
  assert.equal(await metric(h.alpha.registry, 'heartbeat_ip_command_failures_total', { operation: 'assign' }), 2);
});

test('garbage, forged and replayed datagrams are counted by reason and change nothing', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const before = JSON.stringify(h.beta.runtime.snapshot().groups);
  const captured = h.alpha.sent.at(-1)!;
  h.beta.inject(Buffer.from('not a heartbeat'));
  h.beta.inject(captured);
  const forged = Buffer.from(captured);
  forged[forged.length - 1]! ^= 0xff;
  h.beta.inject(forged);
  h.beta.inject(Buffer.alloc(2000));
  await time.advance(50);
  assert.equal(await metric(h.beta.registry, 'heartbeat_datagrams_rejected_total', { reason: 'malformed' }), 1);
  assert.equal(await metric(h.beta.registry, 'heartbeat_datagrams_rejected_total', { reason: 'replay' }), 1);
  assert.equal(await metric(h.beta.registry, 'heartbeat_datagrams_rejected_total', { reason: 'badAuth' }), 1);
  assert.equal(await metric(h.beta.registry, 'heartbeat_datagrams_rejected_total', { reason: 'tooBig' }), 1);
  assert.equal(JSON.stringify(h.beta.runtime.snapshot().groups), before);
});

test('a late peer is reported on every tick from one and a half keepalives of silence until it is dead, and never while it is heard', async () => {
  const time = new FakeTime(1000);
  const silenced = new Set<string>();
  const late: number[] = [];
  const h = pair(time, { silenced, onPeerLate: (node) => void (node === 'beta' && late.push(time.now())) });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(3000);
  assert.deepEqual(late, [], 'heard every keepalive: never late');
  const cut = time.now();
  silenced.add('alpha');
  await time.advance(1500);
  assert.ok(late.length >= 4, `reported on the ticks between late and dead (${late.length})`);
  // The last datagram came up to one keepalive before the cut.
  assert.ok(late[0]! - cut >= 50 && late[0]! - cut <= 250, `first report ${late[0]! - cut} ms into the silence`);
  assert.ok(late.at(-1)! - cut <= 801 + 100, `last report ${late.at(-1)! - cut} ms into the silence, at deadtime at the latest`);
  assert.equal(h.beta.runtime.snapshot().peers[0]!.state, 'dead');
});

test('a release stops the group’s announcements: the burst under way is aborted and no repeat follows', async () => {
  const time = new FakeTime(1000);
  const bursts: { node: string; at: number; signal: AbortSignal | undefined }[] = [];
  // A burst that lasts until it is aborted: as one does on a host too busy to start its arpings.
  const slow = (node: string): Announcer => ({
    announce: (_vips, _count, signal) => {
      bursts.push({ node, at: time.now(), signal });
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve({ failed: [] })));
    },
  });
  const h = pair(time, { announcer: slow });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(100);
  const alphas = () => bursts.filter((b) => b.node === 'alpha');
  assert.equal(alphas().length, 1, 'alpha announced on acquiring');
  assert.equal(alphas()[0]!.signal?.aborted, false);
  const stopping = h.alpha.runtime.stop(5000);
  await time.advance(100);
  await stopping;
  assert.equal(alphas()[0]!.signal?.aborted, true, 'the burst under way was aborted by the release');
  await time.advance(3000);
  assert.equal(alphas().length, 1, 'no repeat announcement after the release');
  assert.ok(bursts.some((b) => b.node === 'beta'), 'the new holder announces');
});

test('stop releases the VIP before the goodbye, and the peer takes over at once', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const stopping = h.alpha.runtime.stop(5000);
  await time.advance(60);
  await stopping;
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false);
  assert.ok(h.beta.iface.addresses.has(VIP.address), 'beta holds within 60 ms, long before deadtime');
  assert.equal(h.beta.runtime.snapshot().peers[0]!.state, 'left');
});

test('a stop stuck behind a hung apply still removes the VIP when the grace period ends', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  // The next lease renewal never returns, so the release queued behind it never runs.
  h.alpha.iface.assign = () => new Promise(() => {});
  await time.advance(500);
  const stopping = h.alpha.runtime.stop(300);
  await time.advance(200);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'still blocked inside the grace period');
  await time.advance(300);
  await stopping;
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false);
});

test('with garp.refresh set, the holder re-announces on that period and the standby does not', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { refreshMs: 2000 });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  // after the acquire's burst and its two repeats
  await time.advance(3500);
  const afterAcquire = h.alpha.announced.length;
  await time.advance(6000);
  assert.equal(h.alpha.announced.length - afterAcquire, 3, 'one announcement every 2 s');
  assert.deepEqual(h.beta.announced, []);
});

test('the container comes up after the VIP and goes down before it; a hung Docker does not block the handover', async () => {
  const time = new FakeTime(1000);
  const events: string[] = [];
  let hang = false;
  const h = pair(time, {
    resources: (node) => ({
      acquire: async () => void events.push(`${node} container up (VIP present: ${h.alpha.iface.addresses.has(VIP.address) || h.beta.iface.addresses.has(VIP.address)})`),
      release: async () => {
        events.push(`${node} container down`);
        if (hang) await new Promise(() => {});
      },
      reconcile: async (_g, holding) => void events.push(`${node} reconcile ${holding ? 'holding' : 'standby'}`),
    }),
  });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(400);
  assert.ok(events.includes('alpha container up (VIP present: true)'), events.join('\n'));
  await time.advance(600);
  assert.ok(events.includes('alpha reconcile holding') && events.includes('beta reconcile standby'));
  hang = true;
  const stopping = h.alpha.runtime.stop(5000);
  await time.advance(3000);
  await stopping;
  assert.ok(events.includes('alpha container down'));
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false, 'the VIP went after the 3 s limit on the hung release');
  assert.ok(h.beta.iface.addresses.has(VIP.address));
});

/**
 * A started pair with alpha holding, from which on alpha's every container reconcile hangs for
 * ever, like a frozen dockerd.
 */
async function holdingBehindHungReconcile(time: FakeTime): Promise<Record<'alpha' | 'beta', Host>> {
  let hung = false;
  const h = pair(time, {
    resources: (node) => ({
      acquire: async () => {},
      release: async () => {},
      reconcile: async () => {
        if (node === 'alpha' && hung) await new Promise(() => {});
      },
    }),
  });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address));
  hung = true;
  return h;
}

test('a Docker that hangs on reconcile does not hold up a planned handover', async () => {
  const time = new FakeTime(1000);
  const h = await holdingBehindHungReconcile(time);
  // the next reconcile of alpha's container never returns, like a frozen dockerd
  await time.advance(600);
  h.alpha.runtime.command({ type: 'standby' });
  await time.advance(4000);
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false, 'alpha released behind the hung reconcile');
  assert.ok(h.beta.iface.addresses.has(VIP.address), 'beta took over');
});

test('while Docker stays down the failing reconcile is logged once, and its recovery once', async () => {
  const time = new FakeTime(1000);
  const logs: string[] = [];
  let down = true;
  const h = pair(time, {
    logs,
    resources: (node) => ({
      acquire: async () => {},
      release: async () => {},
      reconcile: async () => {
        if (node === 'alpha' && down) throw new Error('Docker is unreachable: reconcile: ECONNREFUSED');
      },
    }),
  });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(5000);
  const failed = logs.filter((l) => l.startsWith("alpha reconcile of web's resources failed"));
  assert.equal(failed.length, 1, logs.join('\n'));
  down = false;
  await time.advance(1000);
  assert.equal(logs.filter((l) => l.startsWith("alpha reconcile of web's resources works again")).length, 1, logs.join('\n'));
});

test('a hung Docker never delays the lease renewal: the held VIP is renewed every reconcile period', async () => {
  const time = new FakeTime(1000);
  const h = await holdingBehindHungReconcile(time);
  // 30 s of a dockerd that never answers, against a 2 s lease
  const renewedPerSecond: number[] = [];
  for (let s = 0; s < 30; s++) {
    const before = h.alpha.iface.assigns;
    await time.advance(1000);
    renewedPerSecond.push(h.alpha.iface.assigns - before);
  }
  assert.ok(renewedPerSecond.every((n) => n >= 1), `renewals per second: ${renewedPerSecond.join(' ')}`);
  assert.ok(h.alpha.iface.addresses.has(VIP.address));
  assert.equal(h.beta.iface.addresses.has(VIP.address), false);
});

const HUP = { trigger: 'SIGHUP' };

test('reload: new timing and an added key apply in place, the held VIP untouched and nothing moves', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(2000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address));
  const removes = { alpha: 0 };
  const remove = h.alpha.iface.remove.bind(h.alpha.iface);
  h.alpha.iface.remove = async (v) => (removes.alpha++, remove(v));
  const rotated = (node: string): Config => ({
    ...configFor(node),
    timing: { keepaliveMs: 200, warntimeMs: 600, deadtimeMs: 1200, initdeadMs: 3000 },
    auth: { sendKeyId: 2, keys: [KEY, { id: 2, method: 'sha256', secret: Buffer.from('rotated') }] },
  });
  // one node first, as a rolling change would do: the other still accepts key 1 only until its turn
  const a = await h.alpha.runtime.reload({ ...rotated('alpha'), auth: { sendKeyId: 1, keys: rotated('alpha').auth.keys } }, 'v2', HUP);
  assert.deepEqual([a.result, a.applied, a.restart], ['applied', ['timing', 'keys'], []]);
  await h.beta.runtime.reload(rotated('beta'), 'v2', HUP);
  await h.alpha.runtime.reload(rotated('alpha'), 'v2', HUP);
  assert.equal(h.alpha.runtime.snapshot().reload?.result, 'applied');
  assert.equal(await metric(h.alpha.registry, 'heartbeat_config_reloads_total', { result: 'applied' }), 2);
  await time.advance(5000);
  assert.equal(removes.alpha, 0, 'the held VIP was never removed');
  assert.ok(h.alpha.iface.addresses.has(VIP.address));
  assert.equal(h.beta.iface.addresses.has(VIP.address), false);
  assert.equal(await metric(h.alpha.registry, 'heartbeat_transitions_total', { to: 'held' }), 1, 'held once, from the start');
  assert.equal(await metric(h.alpha.registry, 'heartbeat_transitions_total', { to: 'releasing' }), 0);
  assert.equal(await metric(h.beta.registry, 'heartbeat_datagrams_rejected_total'), 0);
  assert.equal(h.beta.runtime.snapshot().configHash, 'v2');
  assert.equal(h.beta.runtime.snapshot().peers[0]!.state, 'up');
});

test('reload: a removed group is released by handshake and the peer that still has it takes over at once', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(2000);
  const double: number[] = [];
  const outcome = h.alpha.runtime.reload({ ...configFor('alpha'), groups: [] }, 'v2', HUP);
  for (let i = 0; i < 40; i++) {
    await time.advance(10);
    if (h.alpha.iface.addresses.has(VIP.address) && h.beta.iface.addresses.has(VIP.address)) double.push(time.now());
  }
  assert.deepEqual((await outcome).applied, ['groups']);
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false, 'alpha released the group it no longer has');
  assert.ok(h.beta.iface.addresses.has(VIP.address), 'beta took it within 400 ms, without waiting for deadtime');
  assert.deepEqual(double, []);
  assert.equal(h.beta.runtime.snapshot().groups[0]!.holder, 'beta');
  // a group added back is elected as usual
  await h.alpha.runtime.reload(configFor('alpha'), 'v3', HUP);
  await time.advance(2000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'preferred alpha took it back (auto_failback)');
  assert.equal(h.beta.iface.addresses.has(VIP.address), false);
});

test('reload: another node name is refused as needing a restart', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  const r = await h.alpha.runtime.reload(configFor('beta'), 'v2', HUP);
  assert.deepEqual([r.applied, r.restart], [[], ['node']]);
  assert.equal(h.alpha.runtime.snapshot().node, 'alpha');
});

test('reload: what only a restart applies (etcd settings) is applied as far as it can be, logged as waiting for a restart, and shown under reload.restart', async () => {
  const time = new FakeTime(1000);
  const logs: string[] = [];
  const h = pair(time, { logs });
  await h.alpha.runtime.start();
  const r = await h.alpha.runtime.reload(configFor('alpha'), 'v2', { ...HUP, restartOnly: ['election (backend and etcd settings)'] });
  assert.deepEqual([r.result, r.restart], ['applied', ['election (backend and etcd settings)']]);
  assert.deepEqual(h.alpha.runtime.snapshot().reload?.restart, ['election (backend and etcd settings)']);
  assert.ok(logs.includes('alpha reload: election (backend and etcd settings) take effect at the next restart'), logs.join('\n'));
});

test('reload: a refused one is counted and shown, and changes nothing', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  h.alpha.runtime.refuseReload('SIGHUP', ['ha.cf:3: deadtime must exceed 2 × keepalive']);
  const s = h.alpha.runtime.snapshot();
  assert.deepEqual([s.reload?.result, s.reload?.problems, s.configHash], ['refused', ['ha.cf:3: deadtime must exceed 2 × keepalive'], 'test']);
  assert.equal(await metric(h.alpha.registry, 'heartbeat_config_reloads_total', { result: 'refused' }), 1);
});

test('a container step slower than the lease (docker start) does not stop the renewal', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, {
    resources: (node) => ({
      // alpha's Docker never answers the start: the step is cut at its 3 s limit
      acquire: async () => {
        if (node === 'alpha') await new Promise(() => {});
      },
      release: async () => {},
      reconcile: async () => {},
    }),
  });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(400);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'alpha assigned the VIP; its container step is under way');
  const renewedPerSecond: number[] = [];
  for (let s = 0; s < 4; s++) {
    const before = h.alpha.iface.assigns;
    await time.advance(1000);
    renewedPerSecond.push(h.alpha.iface.assigns - before);
  }
  assert.ok(renewedPerSecond.every((n) => n >= 1), `renewals per second while the container step hung: ${renewedPerSecond.join(' ')}`);
});

test('reload: a new preferred node applies in place; the group moves once, by the failback handshake, never retired', async () => {
  const time = new FakeTime(1000);
  const h = pair(time);
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(2000);
  const preferBeta = (node: string): Config => ({ ...configFor(node), groups: [{ id: 'web', preferred: 'beta', vips: [VIP] }] });
  const [a, b] = await Promise.all([h.alpha.runtime.reload(preferBeta('alpha'), 'v2', HUP), h.beta.runtime.reload(preferBeta('beta'), 'v2', HUP)]);
  assert.deepEqual([a.applied, b.applied], [['preferred'], ['preferred']]);
  await time.advance(2000);
  assert.ok(h.beta.iface.addresses.has(VIP.address));
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false);
  assert.equal(await metric(h.alpha.registry, 'heartbeat_transitions_total', { from: 'held', to: 'releasing', reason: 'failback' }), 1);
  assert.equal(await metric(h.alpha.registry, 'heartbeat_transitions_total', { reason: 'removed' }), 0);
});

const VIP2: Vip = { address: '10.77.0.101', prefixLength: 24, iface: 'eth0', label: null, family: 4 };

test('the leases of every held group are renewed in one batch, every third of the lease', async () => {
  const time = new FakeTime(1000);
  const groups = [
    { id: 'web', preferred: 'alpha', vips: [VIP] },
    { id: 'db', preferred: 'alpha', vips: [VIP2] },
  ];
  const h = pair(time, { watched: true, groups });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address) && h.alpha.iface.addresses.has(VIP2.address));
  const before = h.alpha.iface.assigned.length;
  await time.advance(2000);
  const renewals = h.alpha.iface.assigned.slice(before);
  assert.deepEqual(renewals, [[VIP.address, VIP2.address], [VIP.address, VIP2.address], [VIP.address, VIP2.address]], 'one batch for both groups each 666 ms');
});

test('with address events, a VIP deleted by hand is restored and announced at once, a stray removed at once, and nothing is listed', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { watched: true });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const lists = h.alpha.iface.lists + h.beta.iface.lists;
  const announced = h.alpha.announced.length;
  h.alpha.iface.delete(VIP.address);
  assert.equal(h.alpha.runtime.snapshot().groups[0]!.vips[0]!.present, false, 'the event took it out of the view');
  h.beta.iface.add({ iface: 'eth0', address: VIP.address, prefixLength: 24, label: null, validLifeSec: null });
  await time.advance(1);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'restored within a millisecond, not a reconcile period');
  assert.equal(h.alpha.runtime.snapshot().groups[0]!.vips[0]!.present, true);
  assert.equal(h.alpha.announced.length, announced + 1, 'announced again after the restore');
  assert.equal(h.beta.iface.addresses.has(VIP.address), false, 'stray removed within a millisecond');
  await time.advance(20_000);
  assert.equal(h.alpha.iface.lists + h.beta.iface.lists, lists, 'no listing while the events are heard');
  await time.advance(10_000);
  assert.equal(h.alpha.iface.lists + h.beta.iface.lists, lists + 2, 'but one each safety sweep');
});

test('while the monitor is down the addresses are listed every reconcile period, and drift is repaired from the listing; back up, listing stops', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { watched: true });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  h.alpha.watch!.down();
  const lists = h.alpha.iface.lists;
  await time.advance(2000);
  assert.equal(h.alpha.iface.lists - lists, 4, 'listed each 500 ms');
  // unheard: the monitor is down
  h.alpha.iface.delete(VIP.address);
  await time.advance(500);
  assert.ok(h.alpha.iface.addresses.has(VIP.address), 'restored from the listing within a reconcile period');
  h.alpha.watch!.resync();
  await time.advance(1);
  const relisted = h.alpha.iface.lists;
  assert.equal(relisted, lists + 6, 'listed once more when the monitor came back');
  await time.advance(5000);
  assert.equal(h.alpha.iface.lists, relisted, 'then no more');
});

test('address events of an acquire or a release under way are not taken for drift', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { watched: true });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const assigns = { alpha: h.alpha.iface.assigns, beta: h.beta.iface.assigns };
  h.alpha.runtime.command({ type: 'standby' });
  await time.advance(500);
  assert.equal(h.alpha.iface.addresses.has(VIP.address), false);
  assert.ok(h.beta.iface.addresses.has(VIP.address));
  assert.equal(h.alpha.iface.assigns, assigns.alpha, 'alpha never put back the VIP it was releasing');
  assert.equal(h.beta.runtime.snapshot().groups[0]!.holder, 'beta');
  assert.equal(await metric(h.beta.registry, 'heartbeat_ip_command_failures_total'), 0);
});

test('a planned move never has two holders: when the peer assigns the VIP, the old holder has already removed it', async () => {
  const time = new FakeTime(1000);
  const h = pair(time, { watched: true });
  await h.alpha.runtime.start();
  await h.beta.runtime.start();
  await time.advance(1000);
  const overlaps: string[] = [];
  for (const [node, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
    const assign = h[node].iface.assign.bind(h[node].iface);
    h[node].iface.assign = async (v, lease) => {
      if (h[other].iface.addresses.has(VIP.address)) overlaps.push(`${node} assigned at ${time.now()} while ${other} held`);
      return assign(v, lease);
    };
  }
  h.alpha.runtime.command({ type: 'standby' });
  await time.advance(2000);
  assert.ok(h.beta.iface.addresses.has(VIP.address) && !h.alpha.iface.addresses.has(VIP.address), 'moved to beta');
  h.alpha.runtime.command({ type: 'takeover' });
  await time.advance(2000);
  assert.ok(h.alpha.iface.addresses.has(VIP.address) && !h.beta.iface.addresses.has(VIP.address), 'and back to alpha');
  const stopping = h.alpha.runtime.stop(5000);
  await time.advance(100);
  await stopping;
  assert.ok(h.beta.iface.addresses.has(VIP.address), 'beta took over from the stopped alpha');
  assert.deepEqual(overlaps, []);
});
