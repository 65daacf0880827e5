/**
 * Real sockets, loopback only: every address here is in 127.0.0.0/8, which Linux routes to `lo`
 * without any setup, so nothing leaves the host. Ports are picked free by the kernel, never 694.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { PathSpec } from '../domain/peers.js';
import { Inbox, transportContract } from '../../../test/support/transport-compliance.js';
import { createUdpTransport, pathId, TransportError } from './udp.js';
import type { InterfaceAddresses } from './udp.js';

const A = '127.0.0.1';
const B = '127.0.0.2';
/** Both hosts list both addresses, as the seed recipe's ha.cf (installed on both) does. */
const UCAST_LO: PathSpec = { kind: 'ucast', iface: 'lo', peers: [A, B] };

/** A port free right now on every loopback address: bind port 0, read it, let it go. */
async function freePort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind({ address: '127.0.0.1', port: 0 }, resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(resolve));
  return port;
}

function addresses(table: Record<string, InterfaceAddresses>): (iface: string) => InterfaceAddresses {
  return (iface) => table[iface] ?? { ipv4: null, broadcast: null };
}

/** Binds address:port without SO_REUSEADDR, which succeeds only if no socket holds it. */
async function bindExclusively(address: string, port: number): Promise<() => Promise<void>> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port }, resolve);
  });
  return () => new Promise<void>((resolve) => socket.close(resolve));
}

transportContract('udp ucast:lo', async () => {
  const port = await freePort();
  const a = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  const b = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: B, broadcast: null } }) });
  return { a, b, deliver: async () => undefined, close: async () => void (await Promise.all([a.stop(), b.stop()])) };
});

test('ucast: each side hears the other from its bound address and port, and never sends to itself', async () => {
  const port = await freePort();
  const a = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  const b = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: B, broadcast: null } }) });
  const [inboxA, inboxB] = [new Inbox(), new Inbox()];
  try {
    await a.start(inboxA.onDatagram);
    await b.start(inboxB.onDatagram);
    assert.deepEqual(await a.send(Buffer.from('ping')), [{ path: 'ucast:lo', ok: true }]);
    assert.deepEqual(await inboxB.next(), { bytes: Buffer.from('ping'), path: 'ucast:lo', from: { address: A, port } });
    assert.deepEqual(await b.send(Buffer.from('pong')), [{ path: 'ucast:lo', ok: true }]);
    assert.deepEqual(await inboxA.next(), { bytes: Buffer.from('pong'), path: 'ucast:lo', from: { address: B, port } });
    // Loopback queues a datagram on the receiving socket before send returns, so a copy of
    // 'ping' sent to A itself would be in A's inbox ahead of 'pong'.
    assert.deepEqual(inboxA.received.map((r) => r.bytes.toString()), ['pong']);
    assert.deepEqual(inboxB.received.map((r) => r.bytes.toString()), ['ping']);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('ucast: a path whose only peer is this host reports that nothing was sent', async () => {
  const port = await freePort();
  const alone = createUdpTransport({ paths: [{ kind: 'ucast', iface: 'lo', peers: [A] }], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  try {
    await alone.start(new Inbox().onDatagram);
    assert.deepEqual(await alone.send(Buffer.from('x')), [{ path: 'ucast:lo', ok: false, error: 'no destination other than this host' }]);
  } finally {
    await alone.stop();
  }
});

test('a peer the kernel refuses is reported for its path, not thrown, and the other peers still get the datagram', async () => {
  const port = await freePort();
  // 127.255.255.255 is lo's broadcast address: sending there without SO_BROADCAST fails with EACCES,
  // a send error we can cause without leaving loopback.
  const refused = '127.255.255.255';
  const a = createUdpTransport({ paths: [{ kind: 'ucast', iface: 'lo', peers: [refused, B] }], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  const b = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: B, broadcast: null } }) });
  const inboxB = new Inbox();
  try {
    await a.start(new Inbox().onDatagram);
    await b.start(inboxB.onDatagram);
    const [result, ...rest] = await a.send(Buffer.from('x'));
    assert.equal(rest.length, 0);
    assert.equal(result!.path, 'ucast:lo');
    assert.equal(result!.ok, false);
    assert.match(result!.error!, /^127\.255\.255\.255: send EACCES/);
    assert.equal((await inboxB.next()).bytes.toString(), 'x');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('stop closes the sockets: the port can be bound again, even without SO_REUSEADDR', async () => {
  const port = await freePort();
  const a = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  await a.start(new Inbox().onDatagram);
  await assert.rejects(bindExclusively(A, port), /EADDRINUSE/);
  await a.stop();
  const release = await bindExclusively(A, port);
  await release();
});

test('a bind failure rejects start naming the path and address, and frees the paths already bound', async () => {
  const port = await freePort();
  const release = await bindExclusively('127.0.0.3', port);
  const t = createUdpTransport({
    paths: [UCAST_LO, { kind: 'ucast', iface: 'lo3', peers: [A] }],
    port,
    localAddresses: addresses({ lo: { ipv4: A, broadcast: null }, lo3: { ipv4: '127.0.0.3', broadcast: null } }),
  });
  try {
    await assert.rejects(t.start(new Inbox().onDatagram), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'HB_TRANSPORT_BIND_FAILED');
      assert.match(err.message, new RegExp(`^ucast:lo3: cannot bind 127\\.0\\.0\\.3:${port}: .*EADDRINUSE`));
      return true;
    });
    // ucast:lo was bound before ucast:lo3 failed; it must have been let go.
    await (await bindExclusively(A, port))();
  } finally {
    await release();
  }
});

test('an interface without an IPv4 address rejects start naming the path', async () => {
  const t = createUdpTransport({ paths: [UCAST_LO], port: await freePort(), localAddresses: addresses({}) });
  await assert.rejects(t.start(new Inbox().onDatagram), { name: 'TransportError', code: 'HB_TRANSPORT_NO_ADDRESS', message: 'ucast:lo: interface lo has no IPv4 address' });
  const b = createUdpTransport({ paths: [{ kind: 'bcast', iface: 'lo' }], port: await freePort(), localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  await assert.rejects(b.start(new Inbox().onDatagram), { code: 'HB_TRANSPORT_NO_ADDRESS', message: 'bcast:lo: interface lo has no IPv4 broadcast address' });
});

test('bcast on lo: a broadcast reaches the other host, and the sender hears its own', async () => {
  const port = await freePort();
  const lo = addresses({ lo: { ipv4: A, broadcast: '127.255.255.255' } });
  const a = createUdpTransport({ paths: [{ kind: 'bcast', iface: 'lo' }], port, localAddresses: lo, shareForTests: true });
  const b = createUdpTransport({ paths: [{ kind: 'bcast', iface: 'lo' }], port, localAddresses: lo, shareForTests: true });
  const [inboxA, inboxB] = [new Inbox(), new Inbox()];
  try {
    await a.start(inboxA.onDatagram);
    await b.start(inboxB.onDatagram);
    assert.deepEqual(await a.send(Buffer.from('all')), [{ path: 'bcast:lo', ok: true }]);
    const heard = await inboxB.next();
    assert.deepEqual([heard.bytes.toString(), heard.path, heard.from], ['all', 'bcast:lo', { address: A, port }]);
    assert.equal((await inboxA.next()).bytes.toString(), 'all');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('path ids, with one ucast path per interface however many ucast lines ha.cf has', async () => {
  const port = await freePort();
  const t = createUdpTransport({
    paths: [
      { kind: 'ucast', iface: 'eth0', peers: ['10.77.0.11'] },
      { kind: 'mcast', iface: 'eth1', group: '239.0.0.1', ttl: 1, loop: false },
      { kind: 'ucast', iface: 'eth0', peers: ['10.77.0.12', '10.77.0.11'] },
      { kind: 'bcast', iface: 'eth2' },
    ],
    port,
    localAddresses: addresses({}),
  });
  assert.deepEqual(t.pathIds, ['ucast:eth0', 'mcast:eth1:239.0.0.1', 'bcast:eth2']);
  assert.equal(pathId({ kind: 'ucast', iface: 'eth0', peers: [] }), 'ucast:eth0');
  assert.throws(
    () => createUdpTransport({ paths: [{ kind: 'bcast', iface: 'eth0' }, { kind: 'bcast', iface: 'eth0' }], port, localAddresses: addresses({}) }),
    { code: 'HB_TRANSPORT_DUPLICATE_PATH', message: 'path bcast:eth0 is configured twice' },
  );
});

test('start twice is refused', async () => {
  const t = createUdpTransport({ paths: [UCAST_LO], port: await freePort(), localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  try {
    await t.start(new Inbox().onDatagram);
    await assert.rejects(t.start(new Inbox().onDatagram), { code: 'HB_TRANSPORT_ALREADY_STARTED' });
  } finally {
    await t.stop();
  }
});

test('the heartbeat port is bound exclusively: another local socket cannot join it, even with SO_REUSEADDR', async () => {
  const port = await freePort();
  const t = createUdpTransport({ paths: [UCAST_LO], port, localAddresses: addresses({ lo: { ipv4: A, broadcast: null } }) });
  await t.start(() => {});
  try {
    for (const address of [A, '0.0.0.0']) {
      const thief = createSocket({ type: 'udp4', reuseAddr: true });
      const outcome = await new Promise<string>((resolve) => {
        thief.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        thief.bind({ address, port }, () => resolve('bound'));
      });
      thief.close();
      assert.equal(outcome, 'EADDRINUSE', `${address}:${port}`);
    }
  } finally {
    await t.stop();
  }
});
