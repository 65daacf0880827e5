import type { RscStatus } from '../daemon/status.js';

/**
 * `cl_status rscstatus -m`, word for word as Heartbeat prints it (lib/cl_status.c), grammar
 * included: scripts and runbooks written for Heartbeat match on this sentence.
 */
export function rscstatusSentence(rscstatus: RscStatus): string {
  return `This node is holding ${rscstatus} resources.`;
}
