/** Where a datagram came from, as the socket saw it. */
export interface Sender {
  readonly address: string;
  readonly port: number;
}

export type OnDatagram = (bytes: Buffer, path: string, from: Sender) => void;

/** The outcome of one send on one path; `error` says which destination failed and why. */
export interface PathSendResult {
  readonly path: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Moves opaque datagrams over every configured path (docs/architecture.md, Layers). It neither parses nor
 * authenticates; that is `wire`'s job. Received bytes carry the id of the path they came in on,
 * because the engine judges each peer per path.
 */
export interface Transport {
  start(onDatagram: OnDatagram): Promise<void>;
  /** Sends on every path to every destination; never throws; reports per-path failures. */
  send(bytes: Buffer): Promise<PathSendResult[]>;
  stop(): Promise<void>;
  /** `ucast:IFACE`, `mcast:IFACE:GROUP` or `bcast:IFACE`, in configuration order. */
  readonly pathIds: readonly string[];
}
