/**
 * Gate for lab suites: they need root (namespaces, iptables) and a few tools. On a developer
 * machine without them the suite skips; in CI a suite that cannot run must fail instead of
 * quietly passing as "skipped".
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Tools the harness runs (ss and setpriv ship with iproute2 and util-linux). */
export const LAB_TOOLS = ['ip', 'ss', 'iptables', 'busybox', 'arping', 'setpriv'] as const;

const onPath = (tool: string): boolean =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return `the lab needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, iptables)';
  const missing = LAB_TOOLS.filter((t) => !onPath(t));
  return missing.length > 0 ? `missing tools on PATH: ${missing.join(', ')}` : null;
}

/**
 * Call first in a lab test: `if (!requireLab(t)) return;`.
 * Skips (returns false) when the lab cannot run; throws instead when CI=true.
 */
export function requireLab(t: TestContext): boolean {
  const reason = labUnavailable();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`lab suite cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}
