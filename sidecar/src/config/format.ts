import { isWarning } from './problem.js';
import type { ConfigProblem } from './problem.js';

/**
 * One line per problem, compiler style, for `check-config` and the refusal to start:
 *
 *   /etc/ha.d/ha.cf:7: deadtime 2 s must be greater than 2 × keepalive (4 s) — fix: raise deadtime or lower keepalive
 *   HB_API_PORT: api.port: "x" is not a whole number from 1 to 65535 — fix: write a whole number from 1 to 65535
 *   warning: /etc/ha.d/ha.cf:11: use_logd has no effect: ... — fix: ...
 */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

function formatProblem(p: ConfigProblem): string {
  const place = p.file === null ? p.key : p.line === null ? p.file : `${p.file}:${p.line}`;
  return `${isWarning(p) ? 'warning: ' : ''}${place === null ? '' : `${place}: `}${p.message} — fix: ${p.fix}`;
}
