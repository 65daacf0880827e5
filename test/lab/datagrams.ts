/**
 * Hostile datagrams for the lab: a real heartbeat captured off the wire and sent again (a
 * replay), one signed with the wrong secret (a forgery), and random bytes. They are sent from a
 * lab namespace to a lab address only.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encode } from '../../sidecar/src/wire/codec.js';
import type { Message } from '../../sidecar/src/wire/types.js';
import type { Lab } from './netns.js';

const COPIES = 3;

/** The UDP payload of the first packet in a classic pcap file of Ethernet frames. */
export function udpPayloadFromPcap(pcap: Buffer): Buffer {
  const linkType = pcap.readUInt32LE(20);
  if (linkType !== 1) throw new Error(`pcap link type ${linkType}, expected Ethernet (1)`);
  const frame = pcap.subarray(24 + 16, 24 + 16 + pcap.readUInt32LE(24 + 8));
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  const udp = ip.subarray(ihl);
  return udp.subarray(8, udp.readUInt16BE(4));
}

/** One heartbeat from `sender` as `host` received it (not one of `host`'s own outgoing ones). */
export async function capture(lab: Lab, host: string, sender: string, port: number): Promise<Buffer> {
  const file = path.join(lab.dir, `capture-${host}.pcap`);
  const filter = ['udp', 'and', 'dst', 'port', String(port), 'and', 'src', 'host', lab.hosts[sender]!.address];
  const r = await lab.exec(host, ['tcpdump', '-i', 'eth0', '-c', '1', '-U', '-w', file, ...filter], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`tcpdump in ${host}: ${r.stderr}`);
  return udpPayloadFromPcap(fs.readFileSync(file));
}

export interface Sent {
  readonly replayed: number;
  readonly forged: number;
  readonly garbage: number;
  /** The captured heartbeat that was replayed, to replay again later (after a restart). */
  readonly captured: Buffer;
}

/** Sends raw UDP payloads from a lab namespace to a lab address. */
export async function sendPayloads(lab: Lab, from: string, to: string, port: number, payloads: readonly Buffer[]): Promise<void> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const list = process.argv.slice(1).map((h) => Buffer.from(h, 'hex'));
    (async () => { for (const b of list) await new Promise((r) => s.send(b, ${port}, '${to}', r)); s.close(); })();`;
  const r = await lab.exec(from, [process.execPath, '-e', script, ...payloads.map((p) => p.toString('hex'))]);
  if (r.code !== 0) throw new Error(`sending datagrams failed: ${r.stderr}`);
}

export async function sendDatagrams(lab: Lab, opts: { from: string; to: string; captureOn: string; port: number; sender: string }): Promise<Sent> {
  const replay = await capture(lab, opts.captureOn, opts.sender, opts.port);
  const forgedMessage: Message = {
    type: 'heartbeat',
    node: opts.sender,
    generation: Date.now() + 1_000_000,
    seq: 1,
    sentAtMs: 1,
    priority: 0,
    healthy: true,
    standby: false,
    maintenance: false,
    takeoverEpoch: 99,
    groups: [],
    echoes: [],
  };
  const forged = encode(forgedMessage, { id: 1, method: 'sha1', secret: Buffer.from('not-the-secret') });
  const payloads = [
    ...Array.from({ length: COPIES }, () => replay),
    ...Array.from({ length: COPIES }, () => forged),
    ...Array.from({ length: COPIES }, () => randomBytes(64)),
  ];
  await sendPayloads(lab, opts.from, opts.to, opts.port, payloads);
  return { replayed: COPIES, forged: COPIES, garbage: COPIES, captured: replay };
}
