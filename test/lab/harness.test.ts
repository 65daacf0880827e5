/**
 * Self-test of the lab harness against the real kernel: layout, responders, a VIP moved by hand
 * (ip addr + gratuitous ARP) as seen by the prober and the client's neighbour table, partitions,
 * loss, link failure, and that nothing survives destroy() or a dying test process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { requireLab } from './guard.js';
import { createLab, listNetns, pidDead as pidGone, waitFor, type Lab } from './netns.js';
import { failures, firstAnswerFrom, longestGap, servedBy } from './analysis.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VIP = '10.77.0.100';
const UDP_PORT = 7777;
const since = (t0: number): string => (performance.now() - t0).toFixed(0);

async function sh(lab: Lab, where: string, ...argv: string[]): Promise<string> {
  return (await lab.exec(where, argv, { check: true })).stdout;
}

const ping = async (lab: Lab, from: string, toAddress: string): Promise<boolean> =>
  (await lab.exec(from, ['ping', '-c', '1', '-W', '1', toAddress])).code === 0;

// Plain node (no tsx) keeps these quick to start.
const RX = `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>n++);
s.bind(+process.argv[1],()=>console.log('ready'));process.on('SIGTERM',()=>{console.log(n);process.exit(0)});`;
const TX = `const s=require('dgram').createSocket('udp4');const [a,p,c]=process.argv.slice(1);
(async()=>{for(let i=0;i<+c;i++)await new Promise((r,j)=>s.send('hb',+p,a,e=>e?j(e):r()));s.close()})()
.catch(e=>{console.error(e.code);process.exit(1)});`;

/** How many of `count` datagrams sent from `from` reach `to`. The send must never fail. */
async function udpDelivered(lab: Lab, from: string, to: string, count: number): Promise<number> {
  const rx: ChildProcess = lab.spawn(to, [process.execPath, '-e', RX, String(UDP_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: rx.stdout! })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, 'ready');
  await lab.exec(from, [process.execPath, '-e', TX, lab.hosts[to]!.address, String(UDP_PORT), String(count)], { check: true });
  await sleep(100); // let the last datagrams land
  lab.kill(rx, 'SIGTERM');
  return Number((await lines.next()).value);
}

test('lab harness self-test', async (t) => {
  if (!requireLab(t)) return;
  let t0 = performance.now();
  const lab = await createLab({ hosts: ['cookbook', 'cookbook2'], name: 'selftest' });
  t.diagnostic(`lab create: ${since(t0)} ms`);
  t.after(() => lab.destroy()); // whatever fails below

  await t.test('layout: namespaces, addresses, MACs; the root namespace untouched', async () => {
    const names = await listNetns();
    for (const ns of lab.namespaces) {
      assert.ok(names.includes(ns), ns);
      assert.match(ns, new RegExp(`^hbs-${process.pid}-`));
      assert.ok(ns.length <= 15, `${ns} is longer than 15`);
    }
    assert.deepEqual(
      (await lab.addresses('cookbook2')).map((a) => `${a.local}/${a.prefixlen}`),
      ['10.77.0.12/24'],
    );
    assert.equal(lab.nsOf('cookbook'), lab.hosts.cookbook!.ns);
    assert.equal(await lab.macOf('cookbook'), lab.hosts.cookbook!.mac);
    assert.notEqual(lab.hosts.cookbook!.mac, lab.hosts.cookbook2!.mac);
    assert.throws(() => lab.nsOf('nonesuch'), /not a namespace/);
    // read-only look at the root namespace: no lab address may ever appear there
    const root = spawn('ip', ['-j', 'addr'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let json = '';
    root.stdout.on('data', (d: Buffer) => (json += d));
    await once(root, 'close');
    const rootAddrs = (JSON.parse(json) as Array<{ addr_info: Array<{ local: string }> }>).flatMap((l) => l.addr_info.map((a) => a.local));
    assert.ok(!rootAddrs.some((a) => a.startsWith('10.77.')), `lab address in root ns: ${rootAddrs.join(' ')}`);
  });

  const responders = await Promise.all([lab.startResponder('cookbook'), lab.startResponder('cookbook2')]);

  await t.test('the client reaches each responder on its own address', async () => {
    for (const h of ['cookbook', 'cookbook2']) {
      // no `-T`: this busybox (1.35, Debian) wget dies of SIGSEGV with it; exec's timeout bounds it
      const body = await sh(lab, 'client', 'busybox', 'wget', '-q', '-O', '-', `http://${lab.hosts[h]!.address}:8080/`);
      assert.equal(body, h);
    }
  });

  await t.test('a VIP moved by hand: the prober and the neighbour table follow the GARP', async () => {
    await sh(lab, 'cookbook', 'ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0');
    await sh(lab, 'cookbook', 'arping', '-U', '-c', '2', '-I', 'eth0', VIP);
    assert.deepEqual(await lab.holders(VIP), ['cookbook']);

    t0 = performance.now();
    const start = lab.now();
    const prober = await lab.startProber(`http://${VIP}:8080/`, { intervalMs: 10, timeoutMs: 200 });
    t.diagnostic(`prober start: ${since(t0)} ms`);
    await prober.waitFor((r) => r.host === 'cookbook');
    assert.equal(await lab.neighbour(VIP), lab.hosts.cookbook!.mac);
    await sleep(300);

    const move = prober.mark('move');
    await sh(lab, 'cookbook', 'ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0');
    await sh(lab, 'cookbook2', 'ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0');
    const garp = sh(lab, 'cookbook2', 'arping', '-U', '-c', '2', '-I', 'eth0', VIP); // ~1 s: 2 packets, 1 s apart
    const first = await prober.waitFor((r) => r.host === 'cookbook2' && r.sentAt >= move, 5000);
    await garp;
    assert.equal(await lab.neighbour(VIP), lab.hosts.cookbook2!.mac);
    assert.deepEqual(await lab.holders(VIP), ['cookbook2']);
    await sleep(300);
    const end = prober.mark('end');
    const records = await prober.stop();

    // the harness and the prober share one clock: every probe was sent between start and stop
    assert.ok(records.length > 0 && records[0]!.sentAt >= start && records.at(-1)!.sentAt <= lab.now());
    // `first` is the first to complete; a probe sent a little earlier may have completed later.
    assert.ok(firstAnswerFrom(records, 'cookbook2', move)!.sentAt <= first.sentAt);
    assert.deepEqual(Object.keys(servedBy(records, { to: move })), ['cookbook']);
    assert.deepEqual(Object.keys(servedBy(records, { from: first.sentAt })), ['cookbook2']);
    const gap = longestGap(records, move, end);
    t.diagnostic(
      `VIP move: first answer from cookbook2 sent ${(first.sentAt - move).toFixed(1)} ms after the move began; ` +
        `longest gap ${gap.ms.toFixed(1)} ms; ${failures(records, { from: move, to: end })} failed probes; ` +
        `${records.length} probes in ${(end - start).toFixed(0)} ms`,
    );
    assert.ok(first.sentAt - move < 3000, 'the move took too long');
    assert.ok(!gap.open);
  });

  await t.test('partition blocks both ways, heal restores; the client is unaffected', async () => {
    const [a, b] = [lab.hosts.cookbook!.address, lab.hosts.cookbook2!.address];
    assert.deepEqual(await Promise.all([ping(lab, 'cookbook', b), ping(lab, 'cookbook2', a)]), [true, true]);
    await lab.partition('cookbook', 'cookbook2');
    assert.deepEqual(await Promise.all([ping(lab, 'cookbook', b), ping(lab, 'cookbook2', a)]), [false, false]);
    assert.deepEqual(await Promise.all([ping(lab, 'client', a), ping(lab, 'client', b)]), [true, true]);
    await lab.heal();
    assert.deepEqual(await Promise.all([ping(lab, 'cookbook', b), ping(lab, 'cookbook2', a)]), [true, true]);
  });

  await t.test('one-way partition and UDP loss drop at the receiver (senders see no error)', async () => {
    assert.equal(await udpDelivered(lab, 'cookbook', 'cookbook2', 50), 50);
    await lab.partition('cookbook', 'cookbook2', { oneWay: true });
    assert.equal(await udpDelivered(lab, 'cookbook', 'cookbook2', 50), 0);
    assert.equal(await udpDelivered(lab, 'cookbook2', 'cookbook', 50), 50);
    await lab.heal();

    await lab.loss('cookbook2', 0.5, { udpPort: UDP_PORT });
    const inbound = await udpDelivered(lab, 'cookbook', 'cookbook2', 400);
    const outbound = await udpDelivered(lab, 'cookbook2', 'cookbook', 400);
    t.diagnostic(`loss 0.5: ${inbound}/400 in, ${outbound}/400 out`);
    for (const n of [inbound, outbound]) assert.ok(n > 100 && n < 300, `${n}/400 delivered at p=0.5`);
    await lab.loss('cookbook2', 0, { udpPort: UDP_PORT });
    assert.equal(await udpDelivered(lab, 'cookbook', 'cookbook2', 100), 100);
  });

  await t.test('link down isolates a host, link up brings it back', async () => {
    const a = lab.hosts.cookbook!.address;
    await lab.linkDown('cookbook');
    assert.deepEqual(await Promise.all([ping(lab, 'client', a), ping(lab, 'cookbook2', a)]), [false, false]);
    await lab.linkUp('cookbook');
    t0 = performance.now();
    await waitFor(() => ping(lab, 'client', a), { timeoutMs: 5000, what: 'ping after link up' });
    t.diagnostic(`reachable ${since(t0)} ms after link up`);
  });

  await t.test('destroy kills what it spawned and deletes every namespace, idempotently', async () => {
    const pids = responders.map((r) => r.child.pid!);
    assert.ok(pids.every((p) => !pidGone(p)));
    t0 = performance.now();
    await lab.destroy();
    t.diagnostic(`lab destroy: ${since(t0)} ms`);
    await lab.destroy();
    const left = (await listNetns()).filter((ns) => ns.startsWith(lab.prefix));
    assert.deepEqual(left, []);
    assert.deepEqual(pids.filter((p) => !pidGone(p)), []);
    assert.ok(!fs.existsSync(lab.dir));
    await assert.rejects(async () => lab.exec('client', ['true']), /destroyed/);
  });
});

test('exit hooks clean up after a process that throws, rejects or is signalled', async (t) => {
  if (!requireLab(t)) return;
  const modes = ['throw', 'reject', 'SIGTERM', 'SIGINT'] as const;
  await Promise.all(
    modes.map(async (mode) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'cleanup-fixture.ts'), mode], {
        cwd: path.resolve(HERE, '../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr.resume();
      const exit = once(child, 'exit');
      const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
      assert.equal(first.done, false, `${mode}: the fixture died before it built its lab`);
      const made = JSON.parse(first.value as string) as { namespaces: string[]; pids: number[]; dir: string };
      if (mode === 'SIGTERM' || mode === 'SIGINT') child.kill(mode); // our own child, by PID
      const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];
      assert.notEqual(code, 0, `${mode}: exit ${code} ${signal}`);
      const names = await listNetns();
      assert.deepEqual(made.namespaces.filter((ns) => names.includes(ns)), [], `${mode}: namespaces left`);
      await waitFor(() => made.pids.every(pidGone), { timeoutMs: 3000, what: `${mode}: lab processes to die` });
      assert.ok(!fs.existsSync(made.dir), `${mode}: tmp dir left`);
    }),
  );
});
