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
  'secret-file-owner': 'error',
  'file-too-large': 'error',
  'too-many': 'error',
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
  'heartbeat-too-big': 'error',
  'etcd-without-endpoints': 'error',
  'etcd-tls-incomplete': 'error',
  'etcd-tls-over-http': 'error',
  'vip-lease-over-fence': 'error',
  'logging-directive-ignored': 'warning',
  'auto-failback-default': 'warning',
  'crc-not-authentication': 'warning',
  'weak-secret': 'warning',
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
  return { file: where.file, line: where.line, key: escapeControls(where.key), rule, message: escapeControls(message), fix: escapeControls(fix) };
}

/**
 * Control characters (C0, DEL, C1), invisible format characters (bidi overrides, zero-width
 * spaces, BOM), line and paragraph separators and unpaired surrogates: what would move the
 * cursor, ring, clear or reorder the operator's terminal, or hide text, if printed as is.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Writes each unprintable character as a JSON-style escape (`\u0000`, `\n`); other text is kept. */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const cp = c.codePointAt(0)!;
    return SHORT_ESCAPES[c] ?? (cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`);
  });
}

/**
 * User text quoted into a message: in double quotes, with `"` and `\` escaped as in JSON and every
 * unprintable character escaped, so that the quotes show exactly where the text starts and ends
 * and nothing in it reaches the terminal raw. Long text is cut to `max` characters.
 */
export function quote(text: string, max = 60): string {
  const cut = text.length > max ? `${text.slice(0, max - 3)}...` : text;
  return `"${escapeControls(cut.replace(/["\\]/g, '\\$&'))}"`;
}

export function isWarning(problem: ConfigProblem): boolean {
  return RULES[problem.rule] === 'warning';
}
