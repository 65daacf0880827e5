import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vip } from '../domain/groups.js';
import type { CommandResult, RunCommand } from './command.js';
import { createIpVipDriver, parseIpAddrJson } from './ipaddr.js';

/** What `ip -j address show` printed on a lab host holding a VIP with a lease. */
const IP_JSON = JSON.stringify([
  { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, label: 'lo', valid_life_time: 4294967295 }] },
  {
    ifindex: 2,
    ifname: 'eth0',
    addr_info: [
      { family: 'inet', local: '10.77.0.11', prefixlen: 24, label: 'eth0', valid_life_time: 4294967295 },
      { family: 'inet', local: '10.77.0.100', prefixlen: 24, label: 'eth0:1', valid_life_time: 2 },
      { family: 'inet6', local: 'fd77::100', prefixlen: 64, valid_life_time: 3 },
    ],
  },
]);

const V4: Vip = { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 };
const V6: Vip = { address: 'fd77::100', prefixLength: 64, iface: 'eth0', label: null, family: 6 };

function fakeRun(replies: CommandResult[]): { run: RunCommand; calls: { file: string; args: readonly string[]; input?: string }[] } {
  const calls: { file: string; args: readonly string[]; input?: string }[] = [];
  const run: RunCommand = async (file, args, lazy) => {
    const input = typeof lazy === 'function' ? lazy() : lazy;
    calls.push({ file, args, ...(input !== undefined ? { input } : {}) });
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`unexpected call ${file} ${args.join(' ')}`);
    return reply;
  };
  return { run, calls };
}

const noSysctl = async (): Promise<void> => assert.fail('no IPv6 VIP, no sysctl');

test('parses ip -j: interface, prefix, label and lease; permanent addresses have no lease', () => {
  const present = parseIpAddrJson(IP_JSON);
  assert.deepEqual(present.get('10.77.0.100'), { iface: 'eth0', address: '10.77.0.100', prefixLength: 24, label: 'eth0:1', validLifeSec: 2 });
  assert.equal(present.get('10.77.0.11')!.validLifeSec, null);
  assert.equal(present.get('fd77::100')!.label, null);
  assert.equal(present.size, 4);
});

test('assign is one ip -batch with label, lease, and nodad for IPv6', async () => {
  const { run, calls } = fakeRun([{ code: 0, stdout: '', stderr: '' }]);
  const sysctls: string[] = [];
  await createIpVipDriver(run, async (f, v) => void sysctls.push(`${f}=${v}`)).assign([V4, V6], () => 2);
  assert.deepEqual(sysctls, ['/proc/sys/net/ipv6/conf/eth0/ndisc_notify=1'], 'so the kernel announces the IPv6 VIP');
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.args, ['-force', '-batch', '-']);
  assert.equal(
    calls[0]!.input,
    'address replace 10.77.0.100/24 dev eth0 label eth0:1 valid_lft 2 preferred_lft 2\n' +
      'address replace fd77::100/64 dev eth0 valid_lft 2 preferred_lft 2 nodad\n',
  );
});

test('remove of an address that is already gone counts as success, judged from ip -j, not the error text', async () => {
  const gone = JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.77.0.11', prefixlen: 24 }] }]);
  const { run } = fakeRun([
    { code: 1, stdout: '', stderr: 'RTNETLINK answers: Cannot assign requested address\nCommand failed -:1' },
    { code: 0, stdout: gone, stderr: '' },
  ]);
  await createIpVipDriver(run, noSysctl).remove([V4]);
});

test('a failed assign that left the VIP absent is an error naming the address', async () => {
  const { run } = fakeRun([
    { code: 2, stdout: '', stderr: 'Cannot find device "eth9"' },
    { code: 0, stdout: '[]', stderr: '' },
  ]);
  await assert.rejects(createIpVipDriver(run, noSysctl).assign([V4], () => 2), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'HB_COMMAND_FAILED');
    assert.match(err.message, /10\.77\.0\.100/);
    assert.match(err.message, /eth9/);
    return true;
  });
});
