/**
 * The `notify` hook: an operator's command run on every transition, like Heartbeat's resource
 * scripts, so existing alerting keeps working. It never blocks or fails a transition.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { Claim } from '../domain/claims.js';

export interface TransitionNotice {
  readonly group: string;
  readonly from: Claim;
  readonly to: Claim;
  readonly reason: string;
}

export interface Notifier {
  notify(notice: TransitionNotice): void;
}

const NOTIFY_TIMEOUT_MS = 10_000;

export function createNotifier(command: string | null, baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger): Notifier {
  if (command === null) return { notify: () => {} };
  const log = logger.child({ component: 'notify' });
  return {
    notify({ group, from, to, reason }) {
      const env = { ...baseEnv, HB_GROUP: group, HB_FROM: from, HB_TO: to, HB_REASON: reason };
      execFile(command, [group, from, to, reason], { timeout: NOTIFY_TIMEOUT_MS, env }, (err, _stdout, stderr) => {
        if (err) log.warn({ err, group, from, to, stderr: stderr.slice(0, 500) }, 'notify command failed');
      });
    },
  };
}
