import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Vip } from '../domain/groups.js';
import { FakeTime } from '../../../test/support/fake-time.js';
import type { CommandResult, RunCommand } from './command.js';
import { createIpSession, type IpSession } from './ip-session.js';
import { createIpVipDriver, FenceTooClose } from './ipaddr.js';
import type { LineChildEvents, StartLineChild } from './line-child.js';

const VIP: Vip = { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 };
const OTHER: Vip = { address: '10.77.0.101', prefixLength: 24, iface: 'eth0', label: null, family: 4 };
const LO_JSON = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536}]';
const HOLDING_JSON = JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: VIP.address, prefixlen: 24, label: 'eth0:1', valid_life_time: 2 }] }]);

/**
 * A fake `ip -j -force -batch -` (stderr merged): it numbers the lines it is given as iproute2
 * does and answers each as the test says (by default, changes succeed silently and a listing
 * prints `listing`), or stays silent when `hung`.
 */
class FakeIp {
  starts = 0;
  killed = 0;
  hung = false;
  listing = HOLDING_JSON;
  readonly lines: string[] = [];
  /** Lines (as text) that fail, with what iproute2 prints for them. */
  readonly failing = new Map<string, string>();
  private events: LineChildEvents | null = null;
  private numbered = 0;

  readonly start: StartLineChild = (file, args, events) => {
    assert.deepEqual([file, ...args], ['sh', '-c', 'exec ip -j -force -batch - 2>&1']);
    this.starts++;
    this.events = events;
    this.numbered = 0;
    const mine = events;
    return {
      write: (text) => {
        if (this.events !== mine) return false;
        for (const line of text.split('\n').slice(0, -1)) this.answer(line);
        return true;
      },
      kill: () => {
        this.killed++;
        if (this.events === mine) this.events = null;
      },
    };
  };

  die(reason: string): void {
    const e = this.events;
    this.events = null;
    e?.exit(reason);
  }

  private answer(line: string): void {
    this.lines.push(line);
    const n = ++this.numbered;
    if (this.hung) return;
    const failure = this.failing.get(line);
    if (failure !== undefined) {
      this.events!.line(failure);
      this.events!.line(`Command failed -:${n}`);
    } else if (line === 'link show dev lo') this.events!.line(LO_JSON);
    else if (line === 'address show') this.events!.line(this.listing);
  }
}

function fakeRun(replies: CommandResult[]): { run: RunCommand; calls: string[] } {
  const calls: string[] = [];
  const run: RunCommand = async (file, args, lazy) => {
    const input = typeof lazy === 'function' ? lazy() : lazy;
    calls.push([file, ...args].join(' ') + (input === undefined ? '' : ` <<< ${input.trim()}`));
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`unexpected call ${file} ${args.join(' ')}`);
    return reply;
  };
  return { run, calls };
}

function session(time: FakeTime, ip: FakeIp): IpSession {
  return createIpSession({ start: ip.start, clock: time, timers: time, logger: pino({ level: 'silent' }) });
}

const noSysctl = async (): Promise<void> => assert.fail('no IPv6 VIP, no sysctl');

test('renewals and listings go to the one ip that stays: no process per change', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const { run, calls } = fakeRun([]);
  const driver = createIpVipDriver(run, noSysctl, session(time, ip));
  for (let i = 0; i < 3; i++) await driver.assign([VIP, OTHER], () => 2);
  const present = await driver.list();
  assert.deepEqual(calls, [], 'nothing spawned');
  assert.equal(ip.starts, 1);
  assert.equal(present.get(VIP.address)?.validLifeSec, 2);
  assert.deepEqual(ip.lines.slice(0, 3), [
    'address replace 10.77.0.100/24 dev eth0 label eth0:1 valid_lft 2 preferred_lft 2',
    'address replace 10.77.0.101/24 dev eth0 valid_lft 2 preferred_lft 2',
    'link show dev lo',
  ]);
  assert.equal(ip.lines.length, 3 * 3 + 1);
});

test('a line that fails in the session is done again the old way: one spawned batch, its failure judged from a listing', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  ip.failing.set('address replace 10.77.0.101/24 dev eth0 valid_lft 2 preferred_lft 2', 'Error: ipv4: Address already assigned.');
  const both = JSON.stringify([{ ifname: 'eth0', addr_info: [VIP, OTHER].map((v) => ({ family: 'inet', local: v.address, prefixlen: 24, valid_life_time: 2 })) }]);
  const { run, calls } = fakeRun([{ code: 1, stdout: '', stderr: 'Error: ipv4: Address already assigned.\nCommand failed -:2' }]);
  ip.listing = both;
  const s = session(time, ip);
  const reply = await s.run(['address replace 10.77.0.100/24 dev eth0 valid_lft 2 preferred_lft 2', 'address replace 10.77.0.101/24 dev eth0 valid_lft 2 preferred_lft 2'], 'link show dev lo');
  assert.deepEqual(reply.failed, [1], 'the second change failed, by its line number');
  await createIpVipDriver(run, noSysctl, s).assign([VIP, OTHER], () => 2);
  assert.deepEqual(calls, ['ip -force -batch - <<< address replace 10.77.0.100/24 dev eth0 label eth0:1 valid_lft 2 preferred_lft 2\naddress replace 10.77.0.101/24 dev eth0 valid_lft 2 preferred_lft 2']);
  assert.equal(ip.lines.at(-1), 'address show', 'the outcome judged from a listing (through the session)');
  assert.equal(s.up, true, 'a failing line is an answer, not a broken session');
});

test('an ip that does not answer in time is killed and restarted; meanwhile changes are spawned', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const { run, calls } = fakeRun([{ code: 0, stdout: '', stderr: '' }]);
  const s = session(time, ip);
  const driver = createIpVipDriver(run, noSysctl, s);
  ip.hung = true;
  const renewing = driver.assign([VIP], () => 2);
  await time.advance(999);
  assert.deepEqual(calls, [], 'still waiting for the answer');
  await time.advance(1);
  await renewing;
  assert.equal(ip.killed, 1);
  assert.equal(calls.length, 1, 'the renewal went through a spawned ip');
  assert.equal(s.up, false);
  ip.hung = false;
  await time.advance(250);
  assert.equal(ip.starts, 2, 'started again after the first backoff step');
  assert.equal(s.up, true);
  await driver.assign([VIP], () => 2);
  assert.equal(calls.length, 1, 'and used again');
});

test('a write that falls back to a spawned ip after the session hung gets the lease left when it is issued', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const { run, calls } = fakeRun([{ code: 0, stdout: '', stderr: '' }]);
  const driver = createIpVipDriver(run, noSysctl, session(time, ip));
  // As under an etcd fence: a second less of lease for every second later the write is issued.
  const leaseLeft = () => 2 - Math.floor(time.now() / 1000);
  ip.hung = true;
  const renewing = driver.assign([VIP], leaseLeft);
  await time.advance(1_000);
  await renewing;
  assert.equal(ip.lines[0], 'address replace 10.77.0.100/24 dev eth0 label eth0:1 valid_lft 2 preferred_lft 2', 'issued at 0: 2 s');
  assert.deepEqual(calls, ['ip -force -batch - <<< address replace 10.77.0.100/24 dev eth0 label eth0:1 valid_lft 1 preferred_lft 1'], 'issued at 1 s: 1 s');
});

test('a fallback with less than a second left before the fence writes nothing and fails with FenceTooClose', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const { run, calls } = fakeRun([]);
  const driver = createIpVipDriver(run, noSysctl, session(time, ip));
  const leaseLeft = () => 1 - Math.floor(time.now() / 1000);
  ip.hung = true;
  const renewing = assert.rejects(driver.assign([VIP], leaseLeft), FenceTooClose);
  await time.advance(1_000);
  await renewing;
  assert.deepEqual(calls, [], 'nothing spawned');
});

test('a session that dies fails what it was asked at once, and comes back with growing backoff', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const s = session(time, ip);
  ip.hung = true;
  const asked = s.run(['address del 10.77.0.100/24 dev eth0'], 'link show dev lo');
  ip.die('exited 1');
  await assert.rejects(asked, /ip exited 1/);
  await assert.rejects(s.run([], 'address show'), /not running/);
  await time.advance(250);
  assert.equal(ip.starts, 2);
  ip.die('exited 1');
  await time.advance(250);
  assert.equal(ip.starts, 2, 'the second restart waits longer');
  await time.advance(250);
  assert.equal(ip.starts, 3);
  ip.hung = false;
  assert.equal(JSON.parse((await s.run([], 'address show')).output)[0].ifname, 'eth0');
  s.close();
  assert.equal(s.up, false);
  await time.advance(10_000);
  assert.equal(ip.starts, 3, 'closed for good');
});

test('a line iproute2 would read as two commands or a comment is refused before it is written', async () => {
  const time = new FakeTime(0);
  const ip = new FakeIp();
  const s = session(time, ip);
  await assert.rejects(s.run(['address del 10.0.0.1/24 dev eth0\naddress flush dev eth0'], 'link show dev lo'), /not one ip command/);
  await assert.rejects(s.run(['address del 10.0.0.1/24 dev eth0 # x'], 'link show dev lo'), /not one ip command/);
  assert.deepEqual(ip.lines, []);
});
