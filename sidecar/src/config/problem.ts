/**
 * What is wrong with a configuration, said so that an operator can fix it without reading code:
 * where (file and line, or the environment variable), which key, a stable rule code and the fix.
 */

/**
 * Every rule a problem can break, with its severity. The codes are stable: tests, logs and docs
 * refer to them. A warning never stops the daemon; an error always does.
 */
export const RULES = {
  'no-source': 'error',
  'file-unreadable': 'error',
  'secret-file-mode': 'error',
  'yaml-syntax': 'error',
  'unknown-key': 'error',
  'missing-key': 'error',
  'wrong-type': 'error',
  'invalid-value': 'error',
  'unknown-directive': 'error',
  'directive-arguments': 'error',
  'duplicate-directive': 'error',
  'unsupported-setting': 'error',
  'invalid-line': 'error',
  'unknown-resource-agent': 'error',
  'mcast-port-mismatch': 'error',
  'no-node': 'error',
  'duplicate-node': 'error',
  'own-node-undeclared': 'error',
  'node-undeclared': 'error',
  'no-path': 'error',
  'duplicate-path': 'error',
  'iface-missing': 'error',
  'group-without-vip': 'error',
  'duplicate-group': 'error',
  'duplicate-vip': 'error',
  'send-key-missing': 'error',
  'duplicate-key': 'error',
  'deadtime-too-small': 'error',
  'warntime-out-of-range': 'error',
  'initdead-too-small': 'error',
  'vip-lease-too-short': 'error',
  'logging-directive-ignored': 'warning',
  'auto-failback-default': 'warning',
  'crc-not-authentication': 'warning',
  'yaml-warning': 'warning',
} as const satisfies Record<string, 'error' | 'warning'>;

export type ProblemRule = keyof typeof RULES;

export interface ConfigProblem {
  /** The file the value came from; null for environment variables and built-in defaults. */
  readonly file: string | null;
  /** 1-based; null when the file as a whole is at fault or the line is unknown. */
  readonly line: number | null;
  /** The directive, YAML key path or environment variable the operator has to touch. */
  readonly key: string | null;
  readonly rule: ProblemRule;
  readonly message: string;
  readonly fix: string;
}

/** Where a value came from: every problem about that value points there. */
export interface Where {
  readonly file: string | null;
  readonly line: number | null;
  readonly key: string;
}

/** Finds where the value at a path of the native document came from. */
export type Locate = (path: readonly PropertyKey[]) => Where;

export function problemAt(where: Where, rule: ProblemRule, message: string, fix: string): ConfigProblem {
  return { file: where.file, line: where.line, key: where.key, rule, message, fix };
}

export function isWarning(problem: ConfigProblem): boolean {
  return RULES[problem.rule] === 'warning';
}
