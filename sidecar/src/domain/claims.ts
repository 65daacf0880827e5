/**
 * A node's claim on one resource group, as it advertises it in every heartbeat and as /status,
 * the metrics and the notify hook report it (docs/architecture.md, Claim window).
 */
export const CLAIMS = ['none', 'held', 'acquiring', 'releasing'] as const;

export type Claim = (typeof CLAIMS)[number];
