/**
 * Every way a CLI command fails on purpose, by stable code. Each is printed as one line, never
 * a stack trace; how a code maps to an exit status depends on the program (heartbeat-sidecar
 * or Heartbeat's cl_status, whose codes scripts already test).
 */
export type CliErrorCode =
  /** Nothing answers at the API URL: the daemon is down or listens elsewhere. */
  | 'HB_CLI_API_UNREACHABLE'
  /** Connected, but no answer in time: a daemon stuck or a firewall dropping packets. */
  | 'HB_CLI_API_TIMEOUT'
  /** The API answered with an error (wrong token, admin disabled, ...); its own code is kept. */
  | 'HB_CLI_API_REFUSED'
  /** Something answered that is not a heartbeat-sidecar of this version. */
  | 'HB_CLI_API_BAD_RESPONSE'
  | 'HB_CLI_BAD_URL'
  /** An admin command without --token-file or HB_API_TOKEN_FILE. */
  | 'HB_CLI_TOKEN_MISSING'
  | 'HB_CLI_TOKEN_UNREADABLE'
  /** `cl_status nodestatus` for a node the cluster does not have. */
  | 'HB_CLI_UNKNOWN_NODE'
  /** A Heartbeat option the sidecar does not implement, such as `hb_standby local`. */
  | 'HB_CLI_UNSUPPORTED';

export class CliError extends Error {
  override readonly name = 'CliError';
  /** The API's own error code (`HB_API_TOKEN_WRONG`, ...) when the API refused. */
  readonly apiCode: string | null;

  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: ErrorOptions & { readonly apiCode?: string },
  ) {
    super(message, options);
    this.apiCode = options?.apiCode ?? null;
  }
}
