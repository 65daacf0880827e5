import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeTime } from '../../../test/support/fake-time.js';
import { parseMonitorLine, watchAddresses, type AddressEvent } from './ip-monitor.js';
import type { LineChildEvents, StartLineChild } from './line-child.js';

/**
 * What `ip -o monitor address` (iproute2 6.1) printed in a namespace while a batch added an
 * address with a broadcast, a VIP with a lease and a label, an IPv6 VIP with nodad and a
 * point-to-point address, then deleted the primary address (which took its secondary, the VIP,
 * with it) and the IPv6 lease ran out.
 */
const CAPTURED = [
  '3: d0    inet 10.77.0.11/24 brd 10.77.0.255 scope global d0\\       valid_lft forever preferred_lft forever',
  '3: d0    inet 10.77.0.100/24 scope global secondary dynamic d0:1\\       valid_lft 2sec preferred_lft 2sec',
  '2: d1    inet 10.1.0.1 peer 10.1.0.2/32 scope global d1\\       valid_lft forever preferred_lft forever',
  'Deleted 3: d0    inet 10.77.0.100/24 scope global secondary dynamic d0:1\\       valid_lft 2sec preferred_lft 2sec',
  'Deleted 3: d0    inet 10.77.0.11/24 brd 10.77.0.255 scope global d0\\       valid_lft forever preferred_lft forever',
  '3: d0    inet6 fd77::100/64 scope global nodad dynamic \\       valid_lft 2sec preferred_lft 2sec',
  'Deleted 3: d0    inet6 fd77::100/64 scope global nodad dynamic \\       valid_lft 0sec preferred_lft 0sec',
];

test('parses captured ip -o monitor lines: added or deleted, interface, prefix, label, lease', () => {
  assert.deepEqual(
    CAPTURED.map(parseMonitorLine),
    [
      { type: 'added', address: { iface: 'd0', address: '10.77.0.11', prefixLength: 24, label: 'd0', validLifeSec: null } },
      { type: 'added', address: { iface: 'd0', address: '10.77.0.100', prefixLength: 24, label: 'd0:1', validLifeSec: 2 } },
      { type: 'added', address: { iface: 'd1', address: '10.1.0.1', prefixLength: 32, label: 'd1', validLifeSec: null } },
      { type: 'deleted', address: { iface: 'd0', address: '10.77.0.100', prefixLength: 24, label: 'd0:1', validLifeSec: 2 } },
      { type: 'deleted', address: { iface: 'd0', address: '10.77.0.11', prefixLength: 24, label: 'd0', validLifeSec: null } },
      { type: 'added', address: { iface: 'd0', address: 'fd77::100', prefixLength: 64, label: null, validLifeSec: 2 } },
      { type: 'deleted', address: { iface: 'd0', address: 'fd77::100', prefixLength: 64, label: null, validLifeSec: 0 } },
    ],
  );
});

test('lines that are not address events are not taken for one', () => {
  for (const line of ['', 'Deleted', '3: d0    link/ether 22:a7:44:26:ef:24 brd ff:ff:ff:ff:ff:ff', 'netlink receive error No buffer space available (105)', '3: d0    inet 10.77.0.100 scope global d0']) {
    assert.equal(parseMonitorLine(line), null, line);
  }
});

/** A fake `ip monitor`: the test prints lines, writes on stderr, or ends it. */
class FakeMonitor {
  starts = 0;
  killed = 0;
  events: LineChildEvents | null = null;
  readonly start: StartLineChild = (file, args, events) => {
    assert.deepEqual([file, ...args], ['ip', '-o', 'monitor', 'address']);
    this.starts++;
    this.events = events;
    return { write: () => false, kill: () => void this.killed++ };
  };
}

function watching(time: FakeTime, monitor: FakeMonitor): { events: AddressEvent[]; watch: ReturnType<typeof watchAddresses> } {
  const events: AddressEvent[] = [];
  const watch = watchAddresses({ start: monitor.start, clock: time, timers: time, logger: pino({ level: 'silent' }) });
  watch.start((e) => events.push(e));
  return { events, watch };
}

test('the watch is up, with a resync to list from, once the monitor has had time to subscribe; then each line is an event', async () => {
  const time = new FakeTime(0);
  const monitor = new FakeMonitor();
  const { events, watch } = watching(time, monitor);
  assert.equal(watch.up, false, 'not before it could have subscribed');
  await time.advance(100);
  assert.equal(watch.up, true);
  monitor.events!.line(CAPTURED[3]!);
  assert.deepEqual(
    events.map((e) => e.type),
    ['resync', 'deleted'],
  );
});

test('an overrun reported on stderr asks for a resync; a dead monitor is down, then started again with backoff', async () => {
  const time = new FakeTime(0);
  const monitor = new FakeMonitor();
  const { events, watch } = watching(time, monitor);
  await time.advance(100);
  monitor.events!.errorLine('netlink receive error No buffer space available (105)');
  assert.deepEqual(events.at(-1), { type: 'resync', reason: 'netlink receive error No buffer space available (105)' });
  monitor.events!.exit('exited 1');
  assert.equal(watch.up, false);
  assert.deepEqual(events.at(-1), { type: 'down', reason: 'exited 1' });
  // it died at once: the next one waits 250 ms, the one after that 500 ms
  await time.advance(249);
  assert.equal(monitor.starts, 1);
  await time.advance(1);
  assert.equal(monitor.starts, 2);
  monitor.events!.exit('exited 1');
  await time.advance(499);
  assert.equal(monitor.starts, 2);
  await time.advance(1 + 100);
  assert.equal(monitor.starts, 3);
  assert.equal(watch.up, true);
  assert.equal(events.at(-1)?.type, 'resync', 'listed again after the restart');
  watch.stop();
  assert.equal(monitor.killed, 1);
  assert.equal(watch.up, false);
});
