/**
 * What `/status` answers, as one zod schema: the daemon's types below are its output, and the CLI
 * (cli/client.ts) checks every answer against it, so that version skew, or another service on the
 * port, is a clear error rather than a TypeError deep in the table code. One definition: the
 * daemon and the CLI cannot drift apart.
 *
 * Objects are not strict: a newer daemon may add fields an older CLI ignores.
 */
import { z } from 'zod';
import { CLAIMS } from '../domain/claims.js';
import type { Frozen } from '../domain/frozen.js';
import { PEER_LIVENESS } from '../domain/peers.js';

const claim = z.enum(CLAIMS);
const liveness = z.enum(PEER_LIVENESS);

/** Heartbeat's `cl_status rscstatus` words. */
const rscStatus = z.enum(['none', 'local', 'foreign', 'all', 'transition']);
export type RscStatus = z.output<typeof rscStatus>;

const role = z.enum(['initdead', 'active', 'standby', 'stopping']);
export type Role = z.output<typeof role>;

const pathStatus = z.object({
  path: z.string(),
  state: liveness,
  lastHeardAgoMs: z.number().nullable(),
});
export type PathStatus = Frozen<z.output<typeof pathStatus>>;

const peerStatus = z.object({
  node: z.string(),
  state: liveness,
  lastHeardAgoMs: z.number().nullable(),
  rttMs: z.number().nullable(),
  generation: z.number().nullable(),
  healthy: z.boolean().nullable(),
  standby: z.boolean().nullable(),
  maintenance: z.boolean().nullable(),
  paths: z.array(pathStatus),
});
export type PeerStatus = Frozen<z.output<typeof peerStatus>>;

const groupStatus = z.object({
  id: z.string(),
  preferred: z.string().nullable(),
  /** The node that holds it as far as this node can tell; null when nobody does. */
  holder: z.string().nullable(),
  localClaim: claim,
  vips: z.array(z.object({ address: z.string(), present: z.boolean() })),
});
export type GroupStatus = Frozen<z.output<typeof groupStatus>>;

const transitionRecord = z.object({
  group: z.string(),
  from: claim,
  to: claim,
  reason: z.string(),
  /** Wall-clock time, ISO 8601. */
  at: z.string(),
});
export type TransitionRecord = Frozen<z.output<typeof transitionRecord>>;

/** A protected container as this node's Docker last reported it. */
const containerStatus = z.object({
  group: z.string(),
  /** The container or Compose service name from the config. */
  name: z.string(),
  /** Whether this host's Docker answers; null before it was first asked. */
  dockerUp: z.boolean().nullable(),
  dockerError: z.string().nullable(),
  /** Docker's last word on the container (running, paused, exited, missing...); null before the first. */
  state: z.string().nullable(),
  /** Its HEALTHCHECK verdict (healthy, unhealthy, starting, none); null before the first inspect. */
  health: z.string().nullable(),
  /**
   * Why the last look at it was no evidence of the node's health (paused on a standby, a verdict
   * from before its last pause); null when it was. The node's verdict then stands as it was.
   */
  healthWaiting: z.string().nullable(),
});
export type ContainerStatus = Frozen<z.output<typeof containerStatus>>;

/** The last configuration reload, as `/status` shows it and `POST /v1/reload` answers. */
export const reloadStatusSchema = z.object({
  at: z.string(),
  /** SIGHUP, or api for `heartbeat-sidecar reload`. */
  trigger: z.string(),
  result: z.enum(['applied', 'refused']),
  /** Each problem as file:line and message, when refused. */
  problems: z.array(z.string()),
  /** What changed in place. */
  applied: z.array(z.string()),
  /** What changed but takes effect only at the next restart. */
  restart: z.array(z.string()),
});
export type ReloadStatus = Frozen<z.output<typeof reloadStatusSchema>>;

/** Who decides the holders (docs/etcd.md); with etcd, this node's lease and etcd's view. */
export const electionStatusSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('heartbeat') }),
  z.object({
    backend: z.literal('etcd'),
    /** This node's etcd lease; null while it has none. */
    lease: z.string().nullable(),
    /** Time left before this node must have let go, in ms; null without a lease. */
    fenceInMs: z.number().nullable(),
    /** Whether etcd answered the last keepalive. */
    storeReachable: z.boolean(),
    onStoreLost: z.enum(['release', 'keep']),
    /** The nodes registered in etcd. */
    candidates: z.array(z.string()),
    /** Each group's owner in etcd; null when vacant. */
    holders: z.record(z.string(), z.string().nullable()),
  }),
]);
export type ElectionStatus = Frozen<z.output<typeof electionStatusSchema>>;

/** Everything `/status`, `cl_status` and `heartbeat-sidecar status` show, read at one moment. */
export const statusSnapshotSchema = z.object({
  node: z.string(),
  role,
  rscstatus: rscStatus,
  healthy: z.boolean(),
  healthReasons: z.array(z.string()),
  standby: z.boolean(),
  maintenance: z.boolean(),
  groups: z.array(groupStatus),
  peers: z.array(peerStatus),
  lastTransition: transitionRecord.nullable(),
  /**
   * The last transitions of every group, oldest first (at most RECENT_TRANSITIONS), for the status
   * page's timeline. The daemon always sends it; optional so that fixtures need not spell it.
   */
  recentTransitions: z.array(transitionRecord).optional(),
  /** One entry per group that protects a container; empty when none does. */
  containers: z.array(containerStatus),
  configHash: z.string(),
  ready: z.boolean(),
  /** The last reload since start; null when there was none. */
  reload: reloadStatusSchema.nullable(),
  /**
   * Who decides the holders. Deliberately always sent, `{backend: 'heartbeat'}` under the
   * heartbeat election, so that a client (the CLI, the status page) tells the two apart without
   * the configuration; a field added beside the others, which older clients ignore. Optional so
   * that fixtures and older daemons need not send it: a client reads its absence as heartbeat.
   */
  election: electionStatusSchema.optional(),
});
export type StatusSnapshot = Frozen<z.output<typeof statusSnapshotSchema>>;
