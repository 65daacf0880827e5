import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inbox, transportContract } from './transport-compliance.js';
import { createMemoryNetwork } from './memory-transport.js';

const PATHS = ['ucast:eth0', 'bcast:eth1'];

transportContract('memory', async () => {
  const net = createMemoryNetwork();
  const a = net.transportFor('cookbook', PATHS);
  const b = net.transportFor('cookbook2', PATHS);
  return { a, b, deliver: async () => void net.flush(), close: async () => void (await Promise.all([a.stop(), b.stop()])) };
});

/** Three started nodes on the same two paths, with an inbox each. */
async function cluster(now?: () => number) {
  const net = createMemoryNetwork(now === undefined ? {} : { now });
  const inboxes: Record<string, Inbox> = {};
  const transports = Object.fromEntries(
    await Promise.all(
      ['a', 'b', 'c'].map(async (node) => {
        const t = net.transportFor(node, PATHS);
        const inbox = new Inbox();
        inboxes[node] = inbox;
        await t.start(inbox.onDatagram);
        return [node, t] as const;
      }),
    ),
  );
  const heard = (node: string): string[] => inboxes[node]!.received.map((r) => `${r.from.address}/${r.path}/${r.bytes.toString()}`);
  return { net, t: transports, heard };
}

test('nothing arrives until flush, then every other node hears it once per shared path', async () => {
  const { net, t, heard } = await cluster();
  await t.a!.send(Buffer.from('hb'));
  assert.deepEqual(heard('b'), []);
  assert.equal(net.pending, 4);
  assert.equal(net.flush(), 4);
  assert.deepEqual(heard('b'), ['a/ucast:eth0/hb', 'a/bcast:eth1/hb']);
  assert.deepEqual(heard('c'), ['a/ucast:eth0/hb', 'a/bcast:eth1/hb']);
  assert.deepEqual(heard('a'), []);
});

test('only nodes that have the path hear on it', async () => {
  const net = createMemoryNetwork();
  const a = net.transportFor('a', ['ucast:eth0', 'bcast:eth1']);
  const b = net.transportFor('b', ['bcast:eth1']);
  const inbox = new Inbox();
  await a.start(new Inbox().onDatagram);
  await b.start(inbox.onDatagram);
  await a.send(Buffer.from('x'));
  net.flush();
  assert.deepEqual(inbox.received.map((r) => r.path), ['bcast:eth1']);
});

test('drop cuts one direction of one link, on every path or on one', async () => {
  const { net, t, heard } = await cluster();
  net.link('a', 'b', { drop: true });
  net.link('a', 'c', { drop: true }, 'ucast:eth0');
  await t.a!.send(Buffer.from('1'));
  await t.b!.send(Buffer.from('2'));
  net.flush();
  assert.deepEqual(heard('b'), []);
  assert.deepEqual(heard('c'), ['a/bcast:eth1/1', 'b/ucast:eth0/2', 'b/bcast:eth1/2']);
  assert.deepEqual(heard('a'), ['b/ucast:eth0/2', 'b/bcast:eth1/2']);
  net.heal();
  await t.a!.send(Buffer.from('3'));
  net.flush();
  assert.deepEqual(heard('b'), ['a/ucast:eth0/3', 'a/bcast:eth1/3']);
});

test('a path rule wins over the rule for the whole link', async () => {
  const { net, t, heard } = await cluster();
  net.link('a', 'b', { drop: true });
  net.link('a', 'b', { drop: false }, 'bcast:eth1');
  await t.a!.send(Buffer.from('x'));
  net.flush();
  assert.deepEqual(heard('b'), ['a/bcast:eth1/x']);
});

test('duplicate delivers each datagram twice', async () => {
  const { net, t, heard } = await cluster();
  net.link('a', 'b', { duplicate: true }, 'ucast:eth0');
  await t.a!.send(Buffer.from('x'));
  net.flush();
  assert.deepEqual(heard('b'), ['a/ucast:eth0/x', 'a/ucast:eth0/x', 'a/bcast:eth1/x']);
});

test('delay holds datagrams on the network clock, and later ones can overtake them', async () => {
  let clock = 1000;
  const { net, t, heard } = await cluster(() => clock);
  net.link('a', 'b', { delayMs: 50 }, 'ucast:eth0');
  await t.a!.send(Buffer.from('slow'));
  clock = 1020;
  net.heal();
  await t.a!.send(Buffer.from('fast'));
  net.flush();
  assert.deepEqual(heard('b'), ['a/bcast:eth1/slow', 'a/ucast:eth0/fast', 'a/bcast:eth1/fast']);
  clock = 1050;
  net.flush();
  assert.deepEqual(heard('b').at(-1), 'a/ucast:eth0/slow');
  assert.equal(net.pending, 0);
});

test('a reply sent during a flush waits for the next one: one flush is one hop', async () => {
  const net = createMemoryNetwork();
  const a = net.transportFor('a', ['ucast:eth0']);
  const b = net.transportFor('b', ['ucast:eth0']);
  const atA = new Inbox();
  await a.start(atA.onDatagram);
  await b.start((bytes) => void b.send(Buffer.from(`re: ${bytes.toString()}`)));
  await a.send(Buffer.from('hello'));
  assert.equal(net.flush(), 1);
  assert.equal(atA.received.length, 0);
  assert.equal(net.flush(), 1);
  assert.equal(atA.received[0]!.bytes.toString(), 're: hello');
});

test('a receiver that stops before delivery loses the datagram, and a datagram is copied when sent', async () => {
  const { net, t, heard } = await cluster();
  await t.a!.send(Buffer.from('x'));
  await t.c!.stop();
  assert.equal(net.flush(), 2);
  assert.deepEqual(heard('c'), []);

  const shared = Buffer.from('abc');
  await t.a!.send(shared);
  shared.fill(0);
  net.flush();
  assert.deepEqual(heard('b').slice(-2), ['a/ucast:eth0/abc', 'a/bcast:eth1/abc']);
});
