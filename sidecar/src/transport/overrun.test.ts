import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTime } from '../../../test/support/fake-time.js';
import { createHealthGate, createOverrunWatch, parseProcNetUdp } from './overrun.js';

const HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
const row = (sl: number, addrHex: string, port: number, rx: number, drops: number) =>
  `  ${sl}: ${addrHex}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 07 00000000:${rx.toString(16).padStart(8, '0')} 00:00000000 00000000     0        0 4242 2 0000000000000000 ${drops}\n`;

test('parses /proc/net/udp: address, port, queue and drops', () => {
  // 10.77.0.12 as the kernel prints it on a little-endian host.
  const stats = parseProcNetUdp(HEADER + row(0, '0C004D0A', 694, 2048, 17) + row(1, '0100007F', 53, 0, 0) + 'junk line\n');
  assert.deepEqual(stats, [
    { localAddress: '10.77.0.12', localPort: 694, rxQueueBytes: 2048, drops: 17 },
    { localAddress: '127.0.0.1', localPort: 53, rxQueueBytes: 0, drops: 0 },
  ]);
});

test('drops on the heartbeat port make an overrun that lasts a whole quiet deadtime after the last drop', async () => {
  const time = new FakeTime();
  let drops = 5;
  const verdicts: (string | null)[] = [];
  const totals: number[] = [];
  const watch = createOverrunWatch({
    read: () => HEADER + row(0, '0C004D0A', 694, 0, drops) + row(1, '0100007F', 53, 0, 999),
    port: () => 694,
    now: () => time.now(),
    timers: time,
    intervalMs: 100,
    quietMs: () => 1_000,
    onDrops: (_s, total) => totals.push(total),
    onVerdict: (r) => verdicts.push(r),
  });
  watch.start();
  await time.advance(300);
  assert.deepEqual(verdicts, [null, null, null, null], 'drops before the first reading are history');
  drops += 1000;
  await time.advance(100);
  assert.match(verdicts.at(-1)!, /overrun/);
  await time.advance(900);
  assert.match(verdicts.at(-1)!, /overrun/, 'still within the quiet time');
  await time.advance(200);
  assert.equal(verdicts.at(-1), null);
  assert.equal(totals.at(-1), 1005);
  watch.stop();
  assert.equal(time.timerCount, 0);
});

test('an overrun makes a node that holds nothing ineligible, never a holder; only changes are sent', () => {
  const sent: [boolean, readonly string[]][] = [];
  let holding = false;
  const gate = createHealthGate((h, r) => sent.push([h, r]), () => holding);
  gate.health(true, []);
  gate.overrun('heartbeat socket overrun');
  gate.overrun('heartbeat socket overrun');
  assert.deepEqual(sent, [[true, []], [false, ['heartbeat socket overrun']]]);
  gate.overrun(null);
  assert.deepEqual(sent.at(-1), [true, []]);
  holding = true;
  gate.overrun('heartbeat socket overrun');
  assert.equal(sent.length, 3, 'a holder keeps what it holds');
  gate.health(false, ['http: 503']);
  assert.deepEqual(sent.at(-1), [false, ['http: 503']]);
});
