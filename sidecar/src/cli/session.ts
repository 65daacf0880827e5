/** What every CLI command shares: the environment, the API client, output and the exit code. */
import { Command } from 'commander';
import { createApiClient, type ApiClient } from './client.js';

export type Env = Record<string, string | undefined>;

export const DEFAULT_API_URL = 'http://127.0.0.1:9694';

/**
 * `--url`, else HB_API_URL, else loopback on HB_API_PORT: inside the sidecar container
 * (`docker exec`) the daemon's own HB_API_PORT is in the environment, so a moved port just works.
 */
function apiUrl(env: Env, opts: ApiOptions): string {
  const port = envValue(env, 'HB_API_PORT');
  return opts.url ?? envValue(env, 'HB_API_URL') ?? (port === undefined ? DEFAULT_API_URL : `http://127.0.0.1:${port}`);
}

/** cl_status's exit codes (Heartbeat lib/cl_status.c): scripts written for it test these. */
export const CL_STATUS_EXIT = { normalFail: 1, parameterError: 11, timeout: 12 } as const;

export interface Session {
  readonly env: Env;
  /** Writes one line to stdout. */
  print(line: string): void;
  /** What runCli returns once the action finishes; actions lower or raise it. */
  exitCode: number;
  /** Applies exit and output handling; call it on every root command before adding subcommands, which inherit it. */
  configure(cmd: Command): Command;
  client(opts: ApiOptions): ApiClient;
}

export interface ApiOptions {
  readonly url?: string;
}

export interface TokenOptions {
  readonly tokenFile?: string;
}

export function createSession(env: Env, io: { out: (s: string) => void; err: (s: string) => void }, fetchApi: typeof fetch): Session {
  return {
    env,
    print: (line) => io.out(`${line}\n`),
    exitCode: 0,
    configure: (cmd) =>
      cmd
        .exitOverride()
        .configureOutput({ writeOut: io.out, writeErr: io.err })
        .showHelpAfterError('(add --help for usage)'),
    client: (opts) => createApiClient({ baseUrl: apiUrl(env, opts), fetch: fetchApi }),
  };
}

export function withApi(cmd: Command): Command {
  return cmd.option('--url <url>', `the daemon's API (env HB_API_URL, default ${DEFAULT_API_URL} or loopback on HB_API_PORT)`);
}

export function withToken(cmd: Command): Command {
  return withApi(cmd).option('--token-file <file>', 'file holding the admin API token (env HB_API_TOKEN_FILE)');
}

export function tokenFileOf(session: Session, opts: TokenOptions): string | undefined {
  return opts.tokenFile ?? envValue(session.env, 'HB_API_TOKEN_FILE');
}

/** Compose writes `HB_X=` for an unset variable; an empty value means "not set", not "empty path". */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
