/**
 * Why the HTTP API refused a request or a connection: a bounded set, shared by the API (log
 * windows) and the metrics (`heartbeat_api_refused_total{reason}`, every reason exported from 0).
 */

/** Connections closed for a cap (api/limits.ts). */
export const CONNECTION_REFUSALS = ['connection-limit', 'source-connection-limit'] as const;
export type ConnectionRefusal = (typeof CONNECTION_REFUSALS)[number];

export const REFUSAL_REASONS = ['not-found', 'unauthorized', 'admin-disabled', 'bad-request', 'too-large', 'timeout', 'other', ...CONNECTION_REFUSALS] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
