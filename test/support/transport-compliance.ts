/**
 * The contract every Transport keeps, run against the real UDP transport (on loopback) and the
 * in-memory one, so a simulation built on the fake cannot rely on something the sockets do not do.
 * Test support only: main never imports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OnDatagram, Sender, Transport } from '../../sidecar/src/transport/types.js';

export interface Received {
  readonly bytes: Buffer;
  readonly path: string;
  readonly from: Sender;
}

/** Collects what one transport receives; `next()` waits for the next datagram, up to a timeout. */
export class Inbox {
  readonly received: Received[] = [];
  private read = 0;
  private wake: (() => void) | null = null;

  readonly onDatagram: OnDatagram = (bytes, path, from) => {
    this.received.push({ bytes: Buffer.from(bytes), path, from });
    this.wake?.();
  };

  async next(timeoutMs = 2000): Promise<Received> {
    if (this.read === this.received.length) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        this.wake = resolve;
        timer = setTimeout(() => reject(new Error(`no datagram within ${timeoutMs} ms`)), timeoutMs);
      }).finally(() => {
        clearTimeout(timer);
        this.wake = null;
      });
    }
    return this.received[this.read++]!;
  }
}

export interface ContractPair {
  /** Two transports, not started, sharing at least one path on which each reaches the other. */
  readonly a: Transport;
  readonly b: Transport;
  /** Lets sent datagrams arrive: the memory network flushes; real sockets need nothing. */
  deliver(): Promise<void>;
  /** Stops both and releases whatever the pair holds. */
  close(): Promise<void>;
}

export function transportContract(name: string, makePair: () => Promise<ContractPair>): void {
  test(`${name} contract: datagrams cross both ways, tagged with a path both sides have`, async () => {
    const pair = await makePair();
    try {
      const [inboxA, inboxB] = [new Inbox(), new Inbox()];
      await pair.a.start(inboxA.onDatagram);
      await pair.b.start(inboxB.onDatagram);

      await pair.a.send(Buffer.from('from a'));
      await pair.deliver();
      const atB = await inboxB.next();
      assert.equal(atB.bytes.toString(), 'from a');
      assert.ok(pair.a.pathIds.includes(atB.path) && pair.b.pathIds.includes(atB.path), atB.path);

      await pair.b.send(Buffer.from('from b'));
      await pair.deliver();
      const atA = await inboxA.next();
      assert.equal(atA.bytes.toString(), 'from b');
      assert.ok(pair.a.pathIds.includes(atA.path), atA.path);
    } finally {
      await pair.close();
    }
  });

  test(`${name} contract: send answers once per path and never throws, even before start or after stop`, async () => {
    const pair = await makePair();
    try {
      const notStarted = await pair.a.send(Buffer.from('early'));
      assert.deepEqual(notStarted.map((r) => [r.path, r.ok]), pair.a.pathIds.map((p) => [p, false]));

      await pair.a.start(new Inbox().onDatagram);
      await pair.b.start(new Inbox().onDatagram);
      const running = await pair.a.send(Buffer.from('now'));
      assert.deepEqual(running, pair.a.pathIds.map((path) => ({ path, ok: true })));

      await pair.a.stop();
      await pair.a.stop();
      const stopped = await pair.a.send(Buffer.from('late'));
      assert.deepEqual(stopped.map((r) => [r.path, r.ok]), pair.a.pathIds.map((p) => [p, false]));
    } finally {
      await pair.close();
    }
  });

  test(`${name} contract: a stopped transport can start again`, async () => {
    const pair = await makePair();
    try {
      const inboxB = new Inbox();
      await pair.a.start(new Inbox().onDatagram);
      await pair.b.start(inboxB.onDatagram);
      await pair.a.stop();
      await pair.a.start(new Inbox().onDatagram);
      await pair.a.send(Buffer.from('again'));
      await pair.deliver();
      assert.equal((await inboxB.next()).bytes.toString(), 'again');
    } finally {
      await pair.close();
    }
  });
}
