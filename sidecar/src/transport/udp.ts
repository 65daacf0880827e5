/**
 * Heartbeat's three UDP media (ha.cf `ucast`, `mcast`, `bcast`), IPv4 only as in Heartbeat.
 * One socket per path, each bound to an address that only that path's traffic is sent to, so
 * the socket a datagram arrives on names its path:
 *
 * - ucast: bound to the interface's own address; sends to every peer but that address, because
 *   the same ha.cf, listing both hosts, is installed on both (Heartbeat skips its own address too);
 * - bcast: bound to the interface's broadcast address; it hears its own broadcasts, which the
 *   caller drops as its own node's messages;
 * - mcast: bound to the group, joined on the interface's address, and sending out of it.
 *
 * Linux lets a socket bound to a broadcast or multicast address send: the source becomes the
 * outgoing interface's address (net/ipv4/af_inet.c, inet_bind). So a path needs no second socket.
 */
import { createSocket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIPv4 } from 'node:net';
import type { Socket } from 'node:dgram';
import type { PathSpec } from '../domain/peers.js';
import type { OnDatagram, PathSendResult, Transport } from './types.js';

export interface InterfaceAddresses {
  readonly ipv4: string | null;
  readonly broadcast: string | null;
}

/** The two pino methods the transport uses, so tests need no pino. */
export interface TransportLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface UdpTransportOptions {
  readonly paths: readonly PathSpec[];
  /** `udpport`: every path binds and sends to it. */
  readonly port: number;
  /** Asked at start, so an address assigned after the config was read is still found. */
  readonly localAddresses: (iface: string) => InterfaceAddresses;
  readonly logger?: TransportLogger;
  /**
   * Share the port with other sockets (SO_REUSEADDR). Only for tests that put two hosts on one
   * loopback broadcast address; a daemon binds its heartbeat port exclusively.
   */
  readonly shareForTests?: boolean;
}

export type TransportErrorCode = 'HB_TRANSPORT_NO_ADDRESS' | 'HB_TRANSPORT_BIND_FAILED' | 'HB_TRANSPORT_DUPLICATE_PATH' | 'HB_TRANSPORT_ALREADY_STARTED';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export function pathId(spec: PathSpec): string {
  switch (spec.kind) {
    case 'ucast':
      return `ucast:${spec.iface}`;
    case 'mcast':
      return `mcast:${spec.iface}:${spec.group}`;
    case 'bcast':
      return `bcast:${spec.iface}`;
  }
}

interface OpenPath {
  readonly id: string;
  readonly socket: Socket;
  readonly destinations: readonly string[];
}

/** Asked for each heartbeat socket; a heartbeat is ~100 bytes, so this holds thousands. */
const RECEIVE_BUFFER_BYTES = 4 << 20;

/**
 * Every destination is an address literal (the schema allows no names), yet dgram resolves each
 * one through dns.lookup and a process tick on every send. Answered here at once instead; a name
 * would still go to the resolver.
 */
function literalFirst(hostname: string, options: LookupOneOptions | number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  if (isIPv4(hostname)) return callback(null, hostname, 4);
  dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

export function createUdpTransport(opts: UdpTransportOptions): Transport {
  const paths = mergeUcast(opts.paths);
  const pathIds = paths.map(pathId);
  const log = opts.logger;
  let open: readonly OpenPath[] | null = null;

  async function start(onDatagram: OnDatagram): Promise<void> {
    if (open !== null) throw new TransportError('HB_TRANSPORT_ALREADY_STARTED', 'the UDP transport is already started');
    const opened: OpenPath[] = [];
    try {
      for (const spec of paths) opened.push(await openPath(spec, onDatagram));
    } catch (err) {
      // Half a transport is no transport: release the ports already taken before reporting.
      await Promise.all(opened.map((p) => close(p.socket)));
      throw err;
    }
    open = opened;
  }

  async function openPath(spec: PathSpec, onDatagram: OnDatagram): Promise<OpenPath> {
    const id = pathId(spec);
    const { bindAddress, destinations, configure } = planPath(spec, opts.localAddresses(spec.iface));
    // Exclusive: no SO_REUSEADDR or SO_REUSEPORT, so no other local process can bind the
    // heartbeat port beside us and take a share of the heartbeats (the kernel then delivers each
    // datagram to one of the sockets, and the peer looks dead). A reload closes the old socket
    // before it binds the new one.
    const socket = createSocket({ type: 'udp4', reuseAddr: opts.shareForTests === true, lookup: literalFirst });
    try {
      await bind(socket, bindAddress, opts.port);
    } catch (err) {
      throw new TransportError('HB_TRANSPORT_BIND_FAILED', `${id}: cannot bind ${bindAddress}:${opts.port}: ${messageOf(err)}`, { cause: err });
    }
    try {
      configure(socket);
    } catch (err) {
      await close(socket);
      throw new TransportError('HB_TRANSPORT_BIND_FAILED', `${id}: cannot set up ${bindAddress}:${opts.port} on ${spec.iface}: ${messageOf(err)}`, { cause: err });
    }
    try {
      // Room for a burst: the kernel caps it at net.core.rmem_max (doubled), which is fine.
      // A sustained flood overruns any buffer; transport/overrun.ts watches for that.
      socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
    } catch (err) {
      log?.warn({ path: id, err }, 'cannot enlarge the receive buffer; keeping the default');
    }
    // Once bound, a socket error must not become an uncaught 'error' event: report it, keep the path.
    socket.on('error', (err) => log?.warn({ path: id, err }, 'socket error'));
    socket.on('message', (bytes, rinfo) => onDatagram(bytes, id, { address: rinfo.address, port: rinfo.port }));
    log?.debug({ path: id, bound: `${bindAddress}:${opts.port}`, destinations }, 'path open');
    return { id, socket, destinations };
  }

  async function send(bytes: Buffer): Promise<PathSendResult[]> {
    const running = open;
    if (running === null) return pathIds.map((path) => ({ path, ok: false, error: 'transport not started' }));
    return Promise.all(running.map((p) => sendOnPath(p, bytes)));
  }

  async function sendOnPath(p: OpenPath, bytes: Buffer): Promise<PathSendResult> {
    if (p.destinations.length === 0) return { path: p.id, ok: false, error: 'no destination other than this host' };
    const failures = (await Promise.all(p.destinations.map((d) => sendTo(p.socket, bytes, d)))).filter((f) => f !== null);
    return failures.length === 0 ? { path: p.id, ok: true } : { path: p.id, ok: false, error: failures.join('; ') };
  }

  /** Resolves to null when the kernel took the datagram, else to what went wrong; never rejects. */
  function sendTo(socket: Socket, bytes: Buffer, address: string): Promise<string | null> {
    return new Promise((resolve) => {
      try {
        socket.send(bytes, opts.port, address, (err) => resolve(err ? `${address}: ${err.message}` : null));
      } catch (err) {
        // dgram throws synchronously for a closed socket or an invalid argument.
        resolve(`${address}: ${messageOf(err)}`);
      }
    });
  }

  async function stop(): Promise<void> {
    const closing = open ?? [];
    open = null;
    await Promise.all(closing.map((p) => close(p.socket)));
  }

  return { start, send, stop, pathIds };
}

interface PathPlan {
  readonly bindAddress: string;
  readonly destinations: readonly string[];
  /** Socket options that need a bound socket. */
  readonly configure: (socket: Socket) => void;
}

function planPath(spec: PathSpec, local: InterfaceAddresses): PathPlan {
  const need = (address: string | null, what: string): string => {
    if (address === null) throw new TransportError('HB_TRANSPORT_NO_ADDRESS', `${pathId(spec)}: interface ${spec.iface} has no IPv4 ${what}`);
    return address;
  };
  switch (spec.kind) {
    case 'ucast': {
      const own = need(local.ipv4, 'address');
      return { bindAddress: own, destinations: spec.peers.filter((peer) => peer !== own), configure: () => undefined };
    }
    case 'bcast': {
      const broadcast = need(local.broadcast, 'broadcast address');
      // Without SO_BROADCAST the kernel refuses to send to a broadcast address (EACCES).
      return { bindAddress: broadcast, destinations: [broadcast], configure: (socket) => socket.setBroadcast(true) };
    }
    case 'mcast': {
      const own = need(local.ipv4, 'address');
      return {
        bindAddress: spec.group,
        destinations: [spec.group],
        configure: (socket) => {
          // Both name the interface by its address; otherwise the kernel picks the one the routing table prefers.
          socket.addMembership(spec.group, own);
          socket.setMulticastInterface(own);
          // ha.cf `mcast IFACE GROUP PORT TTL LOOP`: TTL 1 keeps heartbeats on the link.
          socket.setMulticastTTL(spec.ttl);
          socket.setMulticastLoopback(spec.loop);
        },
      };
    }
  }
}

/**
 * ha.cf takes one `ucast` line per peer, often several on one interface; they share the
 * interface's address and port, so they are one socket and one path.
 */
function mergeUcast(specs: readonly PathSpec[]): PathSpec[] {
  const merged: PathSpec[] = [];
  for (const spec of specs) {
    const id = pathId(spec);
    const index = merged.findIndex((m) => pathId(m) === id);
    const existing = merged[index];
    if (existing === undefined) merged.push(spec);
    else if (existing.kind === 'ucast' && spec.kind === 'ucast') merged[index] = { ...existing, peers: [...new Set([...existing.peers, ...spec.peers])] };
    else throw new TransportError('HB_TRANSPORT_DUPLICATE_PATH', `path ${id} is configured twice`);
  }
  return merged;
}

function bind(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind({ address, port }, () => {
      socket.off('error', fail);
      resolve();
    });
  });
}

function close(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
