/**
 * The two active checks, each one sample per call: an HTTP GET against the protected service,
 * and ICMP echo to the ping nodes. They never throw; a failure is a sample with its reason.
 */
import type { Timers } from '../clock.js';
import type { RunCommand } from '../resources/command.js';

export interface Sample {
  readonly ok: boolean;
  /** Why it failed, for people; empty when ok. */
  readonly reason: string;
}

export interface HttpCheckSpec {
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Good samples in a row that make an unhealthy check healthy again (HAProxy's default: 2). */
  readonly rise: number;
  /** Bad samples in a row that make a healthy check unhealthy (HAProxy's default: 3). */
  readonly fall: number;
}

export type FetchLike = (url: string, init: { signal: AbortSignal; redirect: 'manual' }) => Promise<{ status: number; body: { cancel(): Promise<void> } | null }>;

/**
 * The GET the daemon uses: node:http rather than the global fetch, whose HTTP parser is
 * WebAssembly that Node compiles on first use (memory the daemon need not carry). A fresh
 * connection each time, so a check never rides on a socket the server has half forgotten.
 */
export const httpGet: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    // Not ES module imports: importing node:http or node:https as a module evaluates every lazy
    // export, among them the WebSocket classes that load undici (about 13 MB resident).
    const get = url.startsWith('https:') ? process.getBuiltinModule('node:https').get : process.getBuiltinModule('node:http').get;
    const req = get(url, { signal: init.signal, agent: false, headers: { connection: 'close', 'user-agent': 'heartbeat-sidecar health check' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, body: null });
    });
    req.on('error', reject);
  });

/**
 * One GET. Healthy is a 2xx or 3xx answer within the timeout, as HAProxy's `option httpchk`
 * counts by default; redirects are not followed (a redirect proves the server answers).
 */
export async function httpSample(spec: Pick<HttpCheckSpec, 'url' | 'timeoutMs'>, fetchFn: FetchLike, timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>): Promise<Sample> {
  const ac = new AbortController();
  let timedOut = false;
  const timer = timers.setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, spec.timeoutMs);
  try {
    const res = await fetchFn(spec.url, { signal: ac.signal, redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 400) return { ok: true, reason: '' };
    return { ok: false, reason: `http ${spec.url} answered ${res.status}` };
  } catch (err) {
    if (timedOut) return { ok: false, reason: `http ${spec.url} timed out after ${spec.timeoutMs} ms` };
    const e = err as { cause?: { code?: string; message?: string }; code?: string; message?: string };
    return { ok: false, reason: `http ${spec.url} failed: ${e.cause?.code ?? e.cause?.message ?? e.code ?? e.message ?? String(err)}` };
  } finally {
    timers.clearTimeout(timer);
  }
}

export interface PingSpec {
  /** Addresses that prove outside reachability (Heartbeat's `ping` directive). */
  readonly nodes: readonly string[];
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
}

/** One echo to one ping node (`ping -c1 -W1 -n`): whether it answered. */
export async function pingOnce(node: string, run: RunCommand): Promise<boolean> {
  try {
    return (await run('ping', ['-c1', '-W1', '-n', node])).code === 0;
  } catch {
    return false;
  }
}

/**
 * A round over every ping node: reachable when any answers, since the ping nodes stand for "the
 * network outside", and one of them being down is not our fault.
 */
export function pingRoundSample(nodes: readonly string[], anyAnswered: boolean): Sample {
  if (anyAnswered) return { ok: true, reason: '' };
  return { ok: false, reason: `ping: no ping node answers (${nodes.join(', ')})` };
}
