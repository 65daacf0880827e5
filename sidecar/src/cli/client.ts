/**
 * The CLI's side of the HTTP API. Every failure becomes a CliError with one readable line:
 * the CLI runs in scripts and `docker exec`, where a stack trace helps nobody.
 */
import { readFile } from 'node:fs/promises';
import { reloadStatusSchema, statusSnapshotSchema, type ReloadStatus, type StatusSnapshot } from '../daemon/status.js';
import { CliError } from './errors.js';

/** Heartbeat's cl_status gives up after 5 s (DEFAULT_TIMEOUT); a healthy daemon answers in ms. */
const API_TIMEOUT_MS = 5_000;
/** A reload that retires a held group waits for its handover: up to max(5 s, 3 × deadtime). */
const RELOAD_TIMEOUT_MS = 60_000;

export interface ApiClient {
  status(): Promise<StatusSnapshot>;
  standby(token: string): Promise<void>;
  takeover(token: string): Promise<void>;
  maintenance(token: string, enabled: boolean): Promise<void>;
  /** The reload's outcome, applied or refused (a refusal is an answer, not an error). */
  reload(token: string): Promise<ReloadStatus>;
}

export function createApiClient(opts: { baseUrl: string; fetch: typeof fetch }): ApiClient {
  let base: URL;
  try {
    // A trailing slash keeps a path prefix (a reverse proxy's /heartbeat/) when routes are joined.
    base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  } catch (err) {
    throw new CliError('HB_CLI_BAD_URL', `"${opts.baseUrl}" is not a URL; use --url or HB_API_URL, e.g. http://127.0.0.1:9694`, { cause: err });
  }
  const where = opts.baseUrl;

  /** `answers`: error statuses whose body is an answer rather than a refusal. */
  async function request(method: 'GET' | 'POST', route: string, init: { token?: string; body?: unknown; answers?: readonly number[]; timeoutMs?: number } = {}): Promise<unknown> {
    const timeoutMs = init.timeoutMs ?? API_TIMEOUT_MS;
    const headers: Record<string, string> = {};
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const url = new URL(`.${route}`, base);
    let text: string;
    let status: number;
    try {
      const res = await opts.fetch(url, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') {
        throw new CliError('HB_CLI_API_TIMEOUT', `no answer from the heartbeat-sidecar API at ${where} within ${timeoutMs / 1000} s`, { cause: err });
      }
      throw new CliError('HB_CLI_API_UNREACHABLE', `cannot reach the heartbeat-sidecar API at ${where} (${networkReason(err)}): is the daemon running? Set --url or HB_API_URL if it listens elsewhere`, { cause: err });
    }
    const body = parseJson(text);
    if ((status < 200 || status > 299) && !(init.answers ?? []).includes(status)) {
      const refusal = body as { code?: unknown; message?: unknown } | undefined;
      const apiCode = typeof refusal?.code === 'string' ? refusal.code : undefined;
      const message = typeof refusal?.message === 'string' ? refusal.message : text.trim().slice(0, 200) || 'no details';
      throw new CliError('HB_CLI_API_REFUSED', `${method} ${route} refused with HTTP ${status}${apiCode === undefined ? '' : ` ${apiCode}`}: ${message}`, apiCode === undefined ? {} : { apiCode });
    }
    if (body === undefined) throw new CliError('HB_CLI_API_BAD_RESPONSE', `${url.href} did not answer JSON: is a heartbeat-sidecar listening there?`);
    return body;
  }

  async function admin(route: string, token: string, body?: unknown): Promise<void> {
    await request('POST', route, { token, body });
  }

  return {
    async status() {
      const parsed = statusSnapshotSchema.safeParse(await request('GET', '/status'));
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new CliError('HB_CLI_API_BAD_RESPONSE', `the answer from ${where} is not a heartbeat-sidecar status (${first?.path.join('.') || 'body'}: ${first?.message}); is the CLI the same version as the daemon?`);
      }
      return parsed.data;
    },
    standby: (token) => admin('/v1/standby', token),
    takeover: (token) => admin('/v1/takeover', token),
    maintenance: (token, enabled) => admin('/v1/maintenance', token, { enabled }),
    async reload(token) {
      const parsed = reloadStatusSchema.safeParse(await request('POST', '/v1/reload', { token, answers: [422], timeoutMs: RELOAD_TIMEOUT_MS }));
      if (!parsed.success) throw new CliError('HB_CLI_API_BAD_RESPONSE', `the answer from ${where} is not a reload outcome; is the CLI the same version as the daemon?`);
      return parsed.data;
    },
  };
}

/** Reads the admin token the way the daemon does: the whole file, surrounding whitespace trimmed. */
export async function readToken(tokenFile: string | undefined): Promise<string> {
  if (tokenFile === undefined || tokenFile === '') {
    throw new CliError('HB_CLI_TOKEN_MISSING', 'admin actions need the API token: pass --token-file FILE or set HB_API_TOKEN_FILE');
  }
  let token: string;
  try {
    token = (await readFile(tokenFile, 'utf8')).trim();
  } catch (err) {
    throw new CliError('HB_CLI_TOKEN_UNREADABLE', `cannot read the token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (token === '') throw new CliError('HB_CLI_TOKEN_UNREADABLE', `the token file ${tokenFile} is empty`);
  return token;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Node's fetch hides the socket error in `cause` (`fetch failed` ← `connect ECONNREFUSED`). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
