/**
 * What one HTTP client may cost the daemon. The API listens on every interface so Prometheus can
 * scrape, so an outsider on the LAN can open connections: each is a file descriptor, and the
 * daemon needs descriptors to run `ip` when it must release the VIP. Idle connections are closed,
 * and the number open at once is capped, in total and per source address.
 *
 * Node and Fastify enforce the timeouts (Fastify's connectionTimeout is the socket's inactivity
 * timeout, requestTimeout bounds a whole request, keepAliveTimeout an idle keep-alive); the
 * total cap is http.Server's maxConnections. Only the per-source cap is ours.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionRefusal } from '../domain/refusals.js';

export type ApiLimits = { readonly [K in keyof typeof API_LIMITS]: number };

export const API_LIMITS = {
  /** Prometheus, a load balancer's checks and an operator need a handful. */
  maxConnections: 128,
  maxConnectionsPerSource: 16,
  /** A connection that sends nothing for this long is closed. */
  idleTimeoutMs: 10_000,
  /** A whole request, headers and body, must arrive within this. */
  requestTimeoutMs: 10_000,
  /** Headers must be complete within this (slowloris). */
  headersTimeoutMs: 5_000,
  /**
   * How often Node checks the header and request timeouts. Its default (30 s) would let a
   * client that trickles header bytes, and so is never idle, hold a connection for 35 s.
   */
  timeoutCheckMs: 1_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1_000,
  /** The only request bodies are admin flags. */
  bodyLimitBytes: 1024,
  /** Longest URL echoed into a log line or an error message. */
  loggedUrlChars: 200,
} as const;

/**
 * Caps connections per source address; `onRefused` hears every connection closed for a cap,
 * including those Node drops itself at maxConnections.
 */
export function limitConnections(server: Server, onRefused: (reason: ConnectionRefusal, remote: string) => void, limits: ApiLimits = API_LIMITS): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  const perSource = new Map<string, number>();
  server.on('drop', (data?: { remoteAddress?: string }) => onRefused('connection-limit', data?.remoteAddress ?? 'unknown'));
  server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress ?? 'unknown';
    const open = perSource.get(remote) ?? 0;
    if (open >= limits.maxConnectionsPerSource) {
      onRefused('source-connection-limit', remote);
      socket.destroy();
      return;
    }
    perSource.set(remote, open + 1);
    socket.once('close', () => {
      const left = (perSource.get(remote) ?? 1) - 1;
      if (left <= 0) perSource.delete(remote);
      else perSource.set(remote, left);
    });
  });
}

/** A URL as it may appear in a log line: bounded, so a long path cannot make a long line. */
export function loggedUrl(url: string, limits: ApiLimits = API_LIMITS): string {
  return url.length <= limits.loggedUrlChars ? url : `${url.slice(0, limits.loggedUrlChars)}…(${url.length} chars)`;
}
